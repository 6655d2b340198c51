//! How long the host takes to accept or refuse the tables tenants send, and
//! how much memory it holds while doing so (peak resident set, which only
//! grows: cases run from small to large). `cargo bench -p mmm-host --bench wide_tables`

use std::time::Instant;

use mmm_host::tables::{TableFormat, TableLimits};

fn csv(columns: usize, rows: usize) -> Vec<u8> {
    let header: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    let row = vec!["1.5"; columns].join(",");
    let mut out = header.join(",");
    out.push('\n');
    for _ in 0..rows {
        out.push_str(&row);
        out.push('\n');
    }
    out.into_bytes()
}

/// Peak resident set of this process so far, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let limits = TableLimits::default();
    let cases = [
        ("5 columns x 156 rows", 5, 156),
        ("1,000 columns x 1 row", 1_000, 1),
        ("5,000 columns x 1 row", 5_000, 1),
        ("200,000 columns x 1 row", 200_000, 1),
        ("1,000 columns x 2,000 rows", 1_000, 2_000),
        ("20 columns x 200,000 rows", 20, 200_000),
    ];
    println!(
        "{:<30} {:>10} {:>10} {:>12}  outcome",
        "table", "MiB in", "ms", "peak MiB"
    );
    for (name, columns, rows) in cases {
        let body = bytes::Bytes::from(csv(columns, rows));
        let runs = 5;
        let mut best = f64::INFINITY;
        let mut outcome = String::new();
        for _ in 0..runs {
            let started = Instant::now();
            let result = TableFormat::Csv.parse(&body, &limits);
            best = best.min(started.elapsed().as_secs_f64() * 1e3);
            outcome = match result {
                Ok(batches) => format!("parsed, {} batches", batches.len()),
                Err(e) => format!("refused: {e}"),
            };
        }
        println!(
            "{name:<30} {:>10.2} {best:>10.2} {:>12.0}  {outcome}",
            body.len() as f64 / (1 << 20) as f64,
            peak_mib()
        );
    }
}
