//! A memory budget shared by every table parse in the process, so that many
//! large uploads at once queue instead of exhausting the machine: each parse
//! holds permits for the memory it may need while it runs on the blocking pool.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::limits::TableError;

/// Permits are KiB, so a budget of terabytes still fits the semaphore.
const KIB: usize = 1024;

#[derive(Clone, Debug)]
pub struct ParseBudget {
    permits: Arc<Semaphore>,
    total_kib: usize,
    /// How long a parse waits for memory before the caller is told to retry.
    wait: Duration,
}

impl ParseBudget {
    pub fn new(bytes: usize, wait: Duration) -> Self {
        let total_kib = (bytes / KIB).clamp(1, u32::MAX as usize);
        Self {
            permits: Arc::new(Semaphore::new(total_kib)),
            total_kib,
            wait,
        }
    }

    /// Runs `parse` on the blocking pool once `estimate` bytes of the budget
    /// are free (a parse larger than the whole budget waits for all of it).
    pub async fn run<T: Send + 'static, E: From<TableError> + Send + 'static>(
        &self,
        estimate: usize,
        parse: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let kib = estimate.div_ceil(KIB).clamp(1, self.total_kib) as u32;
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_many_owned(kib))
            .await
            .map_err(|_| TableError::Busy)?
            .map_err(|_| TableError::Busy)?;
        let result = tokio::task::spawn_blocking(move || {
            let result = parse();
            drop(permit);
            result
        })
        .await;
        result.map_err(|e| TableError::Crashed(e.to_string()))?
    }

    /// Bytes not held by a running parse.
    pub fn available(&self) -> usize {
        self.permits.available_permits() * KIB
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_parse_holds_its_share_until_it_ends() {
        let budget = ParseBudget::new(1 << 20, Duration::from_millis(50));
        let (started_tx, started) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let running = tokio::spawn({
            let budget = budget.clone();
            async move {
                budget
                    .run(800 * 1024, move || {
                        started_tx.send(()).unwrap();
                        released.recv().unwrap();
                        Ok::<_, TableError>(())
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || started.recv().unwrap())
            .await
            .unwrap();
        assert_eq!(budget.available(), 224 * 1024);
        let second = budget.run(400 * 1024, || Ok::<_, TableError>(())).await;
        assert!(matches!(second, Err(TableError::Busy)), "{second:?}");
        release.send(()).unwrap();
        running.await.unwrap().unwrap();
        assert_eq!(budget.available(), 1 << 20);
        budget
            .run(2 << 20, || Ok::<_, TableError>(()))
            .await
            .unwrap();
    }
}
