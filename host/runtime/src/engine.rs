//! The one wasmtime `Engine`, its epoch ticker and the linker holding the host imports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

use crate::bindings::preprocessor::Preprocessor;
use crate::bindings::v0_1::preprocessor::Preprocessor as LegacyPreprocessor;
use crate::config::RuntimeConfig;
use crate::sandbox::CallState;

/// Builds the engine every plugin is compiled and run with.
pub(crate) fn build_engine(config: &RuntimeConfig) -> wasmtime::Result<Engine> {
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(config.max_wasm_stack)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool(config)));
    Engine::new(&wasm)
}

/// Instances come from a pool of pre-reserved slots: a call reuses a warm
/// slot (its copy-on-write memory image already mapped) instead of mapping and
/// unmapping a fresh 4 GiB reservation, which halves the fixed cost of a call.
/// Calls and loads both hold a global permit, so live stores never exceed
/// `max_concurrent_calls`; the pool has headroom beyond that. Each memory slot
/// may grow to the wasm32 maximum: the per-call `ResourceLimiter` enforces
/// the real cap, so per-tenant overrides need no engine change.
fn pool(config: &RuntimeConfig) -> PoolingAllocationConfig {
    let slots = u32::try_from(config.max_concurrent_calls)
        .unwrap_or(u32::MAX)
        .saturating_add(2)
        .saturating_mul(4);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(4))
        .total_core_instances(slots.saturating_mul(8))
        .max_memory_size(4 << 30)
        .linear_memory_keep_resident(config.memory_keep_resident)
        .table_keep_resident(TABLE_KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    pool
}

// `RuntimeConfig::memory_keep_resident`: bytes of a slot's linear memory kept
// resident when the slot is returned to the pool: its dirty pages are reset
// with `memset` rather than given back with `madvise`, so the next call on the
// slot writes its input and builds its output without a page fault per 4 KiB
// (on a 32 MiB batch the faults and kernel page zeroing cost more than the
// copies themselves). With `pagemap_scan` (Linux 6.7+; silently off elsewhere)
// only the pages the call actually wrote are reset, so small calls stay cheap;
// without it the first that many bytes of the heap are `memset` whether
// written or not. The price is resident memory: each warm slot may hold up to
// that much between calls.

/// Bytes of a slot's tables reset with `memset` rather than `madvise`.
const TABLE_KEEP_RESIDENT: usize = 1 << 20;

/// The imports every plugin may use: WASI p2 (capability-free, for std) and `mmm:plugin/host`.
pub(crate) fn build_linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    // The model world shares these interfaces (see `bindings`), so adding
    // them once per contract version serves both worlds.
    Preprocessor::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)?;
    LegacyPreprocessor::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// Advances the engine's epoch every tick so running guests reach their
/// deadline check; stops when dropped.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub(crate) fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("mmm-epoch-ticker".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
