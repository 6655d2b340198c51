//! Test-only preprocessor that returns its input unchanged: the round-trip
//! and fixed-cost benchmark plugin of the runtime's tests.

use mmm_sdk::prelude::*;

/// Returns the table as it came in.
#[preprocessor(
    name = "identity",
    version = "0.1.0",
    description = "Returns its input unchanged (tests and benchmarks)"
)]
fn identity(data: Table, _params: NoParams) -> Result<Table> {
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_its_input() {
        let mut t = Table::new();
        t.set_f64("x", vec![1.0, f64::NAN]).unwrap();
        let out = mmm_sdk::testing::run_preprocessor(identity, &t, "").unwrap();
        assert_eq!(out.to_batch().unwrap(), t.to_batch().unwrap());
    }
}
