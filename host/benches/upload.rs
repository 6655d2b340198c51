//! The server-side work of an upload before the insert: parse under the
//! caps, validate every rule, build the canonical table and its sha256.
//! Each case runs in a fresh child process so that its peak resident set is
//! its own. `cargo bench -p mmm-host --bench upload`

use std::process::Command;
use std::time::Instant;

use bytes::Bytes;
use mmm_host::data::{self, UploadMeta};
use mmm_host::tables::{TableFormat, TableLimits};
use serde_json::json;

const EXAMPLE: &str = include_str!("../../examples/synthetic-156w.csv");

/// `days` daily rows: date, KPI, `channels` spend columns, impressions for
/// the first five, and two controls.
fn daily(days: usize, channels: usize) -> (String, UploadMeta) {
    let media: Vec<String> = (0..channels).map(|c| format!("ch{c}")).collect();
    let exposure: Vec<String> = (0..5.min(channels))
        .map(|c| format!("ch{c}_impressions"))
        .collect();
    let mut out = format!(
        "date,sales,{},{},price,promo\n",
        media.join(","),
        exposure.join(",")
    );
    let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    for d in 0..days {
        let date = start + chrono::Duration::days(d as i64);
        out.push_str(&format!("{date},{}", 1000.0 + (d % 97) as f64 * 3.25));
        for c in 0..channels {
            out.push_str(&format!(",{}", ((d * 31 + c * 17) % 500) as f64 * 1.5));
        }
        for c in 0..exposure.len() {
            out.push_str(&format!(",{}", (d * 7 + c) % 10_000));
        }
        out.push_str(&format!(",{},{}\n", 1.0 + (d % 5) as f64 * 0.01, d % 2));
    }
    let meta = json!({
        "name": "bench",
        "roles": {
            "date": "date", "kpi": "sales", "media": media, "controls": ["price", "promo"],
            "exposure": exposure.iter().zip(&media).map(|(e, m)| (e.clone(), json!(m))).collect::<serde_json::Map<_, _>>(),
        }
    });
    (out, serde_json::from_value(meta).unwrap())
}

/// `rows` weekly-free rows of 20 columns: monthly would not hold a million
/// distinct periods, so these are daily periods from year 1.
fn million(rows: usize) -> (String, UploadMeta) {
    let media: Vec<String> = (0..17).map(|c| format!("m{c}")).collect();
    let mut out = format!("date,kpi,{},price\n", media.join(","));
    let start = chrono::NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
    for d in 0..rows {
        let date = start + chrono::Duration::days(d as i64);
        out.push_str(&format!("{date},{}", 500 + d % 1000));
        for c in 0..17 {
            out.push_str(&format!(",{}", (d + c) % 300));
        }
        out.push_str(",1.5\n");
    }
    let meta = json!({"name": "big", "roles": {"date": "date", "kpi": "kpi", "media": media, "controls": ["price"]}});
    (out, serde_json::from_value(meta).unwrap())
}

fn case(name: &str) -> (String, UploadMeta) {
    match name {
        "example-156w" => {
            let roles = serde_json::from_str(include_str!("../../examples/roles.json")).unwrap();
            let meta = UploadMeta {
                name: "example".into(),
                roles,
                granularity: None,
                currency: None,
                allow_gaps: false,
            };
            (EXAMPLE.to_owned(), meta)
        }
        "daily-3y-50ch" => daily(3 * 365, 50),
        "million-x-20" => million(1_000_000),
        other => panic!("no case {other}"),
    }
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn run_case(name: &str) {
    let (csv, meta) = case(name);
    let body = Bytes::from(csv);
    let before = rss_kib("VmRSS:");
    let mut best = f64::INFINITY;
    let runs = if body.len() > 10 << 20 { 1 } else { 20 };
    let mut rows = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let batches = TableFormat::Csv
            .parse(&body, &TableLimits::default())
            .unwrap();
        let prepared = data::prepare(batches, TableFormat::Csv, &meta).unwrap();
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
        rows = prepared.rows;
    }
    let extra = rss_kib("VmHWM:").saturating_sub(before) as f64 / 1024.0;
    let mib = body.len() as f64 / (1 << 20) as f64;
    println!(
        "{name:<16} {rows:>9} rows {mib:>8.2} MiB {best:>10.1} ms  extra peak {extra:>7.1} MiB ({:.1}x the file)",
        extra / mib
    );
}

fn main() {
    if let Some(name) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        return run_case(&name);
    }
    let me = std::env::current_exe().unwrap();
    for name in ["example-156w", "daily-3y-50ch", "million-x-20"] {
        let status = Command::new(&me).arg(name).status().unwrap();
        assert!(status.success(), "{name}");
    }
}
