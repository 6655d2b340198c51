//! The rules one by one on small files, the shipped example end to end, and
//! mutated files that must never panic.

use bytes::Bytes;
use serde_json::json;

use super::*;
use crate::tables::TableLimits;

const EXAMPLE: &str = include_str!("../../../examples/synthetic-156w.csv");

fn meta(extra: serde_json::Value) -> UploadMeta {
    let mut base = json!({
        "name": "sales",
        "roles": {"date": "week", "kpi": "sales", "media": ["tv", "search"], "controls": ["price"]}
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    serde_json::from_value(base).unwrap()
}

/// Twelve clean weeks, then `edit` applied to the lines.
fn weekly(edit: impl FnOnce(&mut Vec<String>)) -> String {
    let mut lines = vec!["week,sales,tv,search,price,note".to_owned()];
    for i in 0..12 {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(7 * i);
        lines.push(format!(
            "{day},{},{},{},1.0,n{i}",
            100 + i * 3,
            10 + i,
            20 - i
        ));
    }
    edit(&mut lines);
    lines.join("\n") + "\n"
}

fn run(csv: &str, meta: &UploadMeta) -> Result<Prepared, DataError> {
    let batches = TableFormat::Csv.parse(&Bytes::from(csv.to_owned()), &TableLimits::default())?;
    prepare(batches, TableFormat::Csv, meta)
        .map_err(|e| e.in_file(TableFormat::Csv, csv.as_bytes()))
}

fn details(csv: &str, meta: &UploadMeta) -> Vec<Detail> {
    match run(csv, meta) {
        Err(DataError::Invalid(found)) => found.details,
        Err(other) => panic!("expected a rejection, got {other}"),
        Ok(passed) => panic!("expected a rejection, it passed: {:?}", passed.warnings),
    }
}

fn one(csv: &str, meta: &UploadMeta) -> (Option<usize>, Option<String>, String) {
    let found = details(csv, meta);
    assert_eq!(found.len(), 1, "{found:?}");
    let d = &found[0];
    (d.row, d.column.clone(), d.reason.clone())
}

#[test]
fn a_row_after_a_quoted_field_that_spans_lines_is_named_by_its_line() {
    // Line 3's note spans lines 3-4, so the negative spend of the sixth
    // record is on line 8, not 7.
    let csv = weekly(|l| {
        l[2] = l[2].replace(",n1", ",\"two\nlines\"");
        l[6] = l[6].replace(",15,", ",-15,");
    });
    let (row, column, reason) = one(&csv, &meta(json!({})));
    assert_eq!((row, column.as_deref()), (Some(8), Some("tv")), "{reason}");
    // Without the span, the same record is on line 7.
    let plain = weekly(|l| l[6] = l[6].replace(",15,", ",-15,"));
    assert_eq!(one(&plain, &meta(json!({}))).0, Some(7));
}

#[test]
fn the_shipped_example_passes_with_its_roles() {
    let roles: Roles = serde_json::from_str(include_str!("../../../examples/roles.json")).unwrap();
    let meta = UploadMeta {
        name: "example".into(),
        roles,
        granularity: None,
        currency: Some("EUR".into()),
        allow_gaps: false,
    };
    let prepared = run(EXAMPLE, &meta).unwrap();
    assert_eq!(prepared.rows, 156);
    assert_eq!(prepared.granularity, Granularity::Weekly);
    assert_eq!(prepared.date_from.to_string(), "2022-01-03");
    assert_eq!(prepared.columns.len(), 9);
    assert!(prepared.warnings.is_empty(), "{:?}", prepared.warnings);
    let again = run(EXAMPLE, &meta).unwrap();
    assert_eq!(
        again.sha256, prepared.sha256,
        "the canonical content is deterministic"
    );
}

#[test]
fn a_clean_file_passes_and_extra_columns_are_kept_and_listed() {
    let prepared = run(&weekly(|_| {}), &meta(json!({}))).unwrap();
    assert_eq!(prepared.rows, 12);
    assert!(
        prepared.warnings.iter().any(|w| w.contains("note")),
        "{:?}",
        prepared.warnings
    );
    assert!(
        prepared
            .warnings
            .iter()
            .any(|w| w.contains("less than a year"))
    );
    let note = prepared.columns.iter().find(|c| c.name == "note").unwrap();
    assert_eq!(note.role, "extra");
}

#[test]
fn each_rule_names_the_row_and_column() {
    let m = meta(json!({}));
    let missing =
        meta(json!({"roles": {"date": "week", "kpi": "sales", "media": ["tv", "radio"]}}));
    assert_eq!(one(&weekly(|_| {}), &missing).1.as_deref(), Some("radio"));
    let bad_date = weekly(|l| l[3] = l[3].replacen("2024-01-15", "someday", 1));
    assert_eq!(one(&bad_date, &m).0, Some(4));
    let negative = weekly(|l| l[5] = l[5].replacen(",14,", ",-14,", 1));
    let (row, column, reason) = one(&negative, &m);
    assert_eq!((row, column.as_deref()), (Some(6), Some("tv")));
    assert!(reason.contains("negative"));
    let not_number = weekly(|l| l[2] = l[2].replacen(",11,", ",eleven,", 1));
    assert_eq!(one(&not_number, &m).0, Some(3));
    let duplicate = weekly(|l| {
        let copy = l[2].clone();
        l.push(copy);
    });
    let (row, _, reason) = one(&duplicate, &m);
    assert_eq!(row, Some(14));
    assert!(reason.contains("row 3"), "{reason}");
    let gap = weekly(|l| {
        l.remove(6);
    });
    assert!(one(&gap, &m).2.contains("gap"));
    assert!(run(&gap, &meta(json!({"allow_gaps": true}))).is_ok());
    let constant = weekly(|l| {
        for line in l.iter_mut().skip(1) {
            let mut cells: Vec<&str> = line.split(',').collect();
            cells[1] = "5";
            *line = cells.join(",");
        }
    });
    assert!(one(&constant, &m).2.contains("constant"));
    let empty = weekly(|l| {
        for line in l.iter_mut().skip(1) {
            *line = line.replace(",1.0,", ",,");
        }
    });
    assert_eq!(one(&empty, &m).1.as_deref(), Some("price"));
    let short = weekly(|l| l.truncate(5));
    assert!(one(&short, &m).2.contains("at least"));
}

#[test]
fn declarations_are_checked_against_each_other() {
    let twice = meta(json!({"roles": {"date": "week", "kpi": "tv", "media": ["tv"]}}));
    assert!(
        one(&weekly(|_| {}), &twice)
            .2
            .contains("more than one role")
    );
    let unpaired = meta(
        json!({"roles": {"date": "week", "kpi": "sales", "media": ["tv"], "exposure": {"search": "radio"}}}),
    );
    assert!(one(&weekly(|_| {}), &unpaired).2.contains("exposure"));
    let currency = meta(json!({"currency": "euro"}));
    assert!(one(&weekly(|_| {}), &currency).2.contains("currency"));
}

#[test]
fn many_problems_are_capped_and_counted() {
    let csv = weekly(|l| {
        for i in 12..400 {
            l.push(format!("bad{i},1,-1,1,1.0,x"));
        }
    });
    match run(&csv, &meta(json!({}))) {
        Err(DataError::Invalid(found)) => {
            assert_eq!(found.details.len(), validate::MAX_DETAILS);
            assert!(found.total > validate::MAX_DETAILS);
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("passed"),
    }
}

/// A small deterministic generator: the test must fail the same way twice.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_files_never_panic_in_any_format() {
    let m = meta(json!({}));
    let clean = weekly(|_| {});
    let batches = TableFormat::Csv
        .parse(&Bytes::from(clean.clone()), &TableLimits::default())
        .unwrap();
    let arrow = write::ipc(&batches).unwrap();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let alphabet = b",\n\"-0123456789.e/:aZ \x00\xff";
    for round in 0..600 {
        let (format, original) = if round % 2 == 0 {
            (TableFormat::Csv, clean.as_bytes().to_vec())
        } else {
            (TableFormat::Arrow, arrow.clone())
        };
        let mut bytes = original;
        for _ in 0..=(rng.next() % 8) {
            let at = (rng.next() as usize) % bytes.len().max(1);
            match rng.next() % 3 {
                0 => bytes[at] = alphabet[(rng.next() as usize) % alphabet.len()],
                1 => bytes.truncate(at),
                _ => bytes.insert(
                    at.min(bytes.len()),
                    alphabet[(rng.next() as usize) % alphabet.len()],
                ),
            }
            if bytes.is_empty() {
                break;
            }
        }
        let outcome = format
            .parse(&Bytes::from(bytes), &TableLimits::default())
            .map_err(DataError::from)
            .and_then(|b| prepare(b, format, &m));
        if let Err(DataError::Table(TableError::Write { .. } | TableError::Crashed(_))) = outcome {
            panic!("round {round}: a server-side failure: {outcome:?}");
        }
    }
}
