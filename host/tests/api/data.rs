//! Marketing data through the API: uploads in each format read back
//! identical, broken files refused with the row and column and nothing
//! stored, versions, tenant walls, the dashboard and the statistics.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use bytes::Bytes;
use mmm_host::tables::{self, TableFormat, TableLimits};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::helpers::{TestApp, TestTenant, connect_as};

pub const EXAMPLE: &str = include_str!("../../../examples/synthetic-156w.csv");

pub fn example_meta(name: &str) -> Value {
    let roles: Value = serde_json::from_str(include_str!("../../../examples/roles.json")).unwrap();
    json!({ "name": name, "roles": roles, "currency": "EUR" })
}

/// A multipart body built by hand: `file` then `meta`.
pub fn multipart(file: &[u8], file_type: &str, meta: &Value) -> (String, Vec<u8>) {
    let boundary = "mmm-test-boundary-7d3f";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"data\"\r\ncontent-type: {file_type}\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"meta\"\r\ncontent-type: application/json\r\n\r\n{meta}\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    file: &[u8],
    file_type: &str,
    meta: &Value,
) -> reqwest::Response {
    let (content_type, body) = multipart(file, file_type, meta);
    app.request(Method::POST, "/tenant/data/upload", Some(token))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn upload_raw(
    app: &TestApp,
    token: &str,
    file: Vec<u8>,
    file_type: &str,
    meta: &Value,
) -> reqwest::Response {
    app.request(Method::POST, "/tenant/data/upload", Some(token))
        .query(&[("meta", meta.to_string())])
        .header("content-type", file_type)
        .body(file)
        .send()
        .await
        .unwrap()
}

/// Uploads the example CSV under `name` and returns the stored source.
async fn upload_example(app: &TestApp, token: &str, name: &str) -> Value {
    created(
        upload(
            app,
            token,
            EXAMPLE.as_bytes(),
            "text/csv",
            &example_meta(name),
        )
        .await,
    )
    .await
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn rows_as_arrow(app: &TestApp, token: &str, id: &str) -> RecordBatch {
    let response = app
        .request(
            Method::GET,
            &format!("/tenant/data/sources/{id}/rows"),
            Some(token),
        )
        .header("accept", tables::ARROW_STREAM)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let batches = tables::ipc::decode_output(&response.bytes().await.unwrap()).unwrap();
    arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
}

async fn source_count(app: &TestApp, token: &str) -> i64 {
    let page: Value = app
        .get("/tenant/data/sources", token)
        .await
        .json()
        .await
        .unwrap();
    page["total"].as_i64().unwrap()
}

/// The example as the upload's canonical numbers: every role column as f64.
fn example_numbers() -> Vec<(String, Vec<Option<f64>>)> {
    let parsed = TableFormat::Csv
        .parse(
            &Bytes::from_static(EXAMPLE.as_bytes()),
            &TableLimits::default(),
        )
        .unwrap();
    let table = arrow_select::concat::concat_batches(&parsed[0].schema(), &parsed).unwrap();
    table
        .schema()
        .fields()
        .iter()
        .zip(table.columns())
        .skip(1)
        .map(|(f, c)| {
            let values = mmm_host::data::numbers::to_f64(c).unwrap().iter().collect();
            (f.name().clone(), values)
        })
        .collect()
}

fn numbers_of(table: &RecordBatch) -> Vec<(String, Vec<Option<f64>>)> {
    table
        .schema()
        .fields()
        .iter()
        .zip(table.columns())
        .skip(1)
        .map(|(f, c)| {
            (
                f.name().clone(),
                c.as_primitive::<Float64Type>().iter().collect(),
            )
        })
        .collect()
}

async fn setup() -> (TestApp, String, TestTenant) {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    (app, admin, acme)
}

#[tokio::test]
async fn each_format_reads_back_identical_to_the_last_bit() {
    let (app, _, acme) = setup().await;
    let token = acme.token("data_scientist");
    let expected = example_numbers();

    let csv = upload_example(&app, token, "csv").await;
    assert_eq!(
        (csv["version"].as_i64(), csv["rows"].as_i64()),
        (Some(1), Some(156))
    );
    assert_eq!(csv["granularity"], "weekly");
    assert_eq!(csv["date_from"], "2022-01-03");
    let from_csv = rows_as_arrow(&app, token, csv["id"].as_str().unwrap()).await;
    assert_eq!(numbers_of(&from_csv), expected);

    // The stored table, sent back as Arrow and as Parquet, stores the same content.
    let arrow = tables::write::ipc(std::slice::from_ref(&from_csv)).unwrap();
    let again = created(
        upload_raw(
            &app,
            token,
            arrow,
            tables::ARROW_STREAM,
            &example_meta("arrow"),
        )
        .await,
    )
    .await;
    assert_eq!(again["sha256"], csv["sha256"]);
    // zstd-compressed, as Spark and DuckDB write it.
    let zstd = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let mut parquet = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut parquet, from_csv.schema(), Some(zstd)).unwrap();
    writer.write(&from_csv).unwrap();
    writer.close().unwrap();
    let pq = created(
        upload(
            &app,
            token,
            &parquet,
            tables::PARQUET,
            &example_meta("parquet"),
        )
        .await,
    )
    .await;
    assert_eq!(pq["sha256"], csv["sha256"]);
    let from_parquet = rows_as_arrow(&app, token, pq["id"].as_str().unwrap()).await;
    assert_eq!(from_parquet, from_csv);

    // Nulls survive, and CSV and JSON answers carry the same values.
    let with_null = EXAMPLE.replacen(
        "2022-01-10,212326.6931486125,4432.97,",
        "2022-01-10,212326.6931486125,,",
        1,
    );
    let nulls = created(
        upload(
            &app,
            token,
            with_null.as_bytes(),
            "text/csv",
            &example_meta("nulls"),
        )
        .await,
    )
    .await;
    let table = rows_as_arrow(&app, token, nulls["id"].as_str().unwrap()).await;
    assert!(table.column(2).is_null(1));
    let tv = nulls["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tv")
        .unwrap();
    assert_eq!(tv["nulls"], 1);
    let json_rows: Value = app
        .request(
            Method::GET,
            &format!("/tenant/data/sources/{}/rows", csv["id"].as_str().unwrap()),
            Some(token),
        )
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json_rows[0]["date"], "2022-01-03");
    assert_eq!(json_rows[0]["revenue"].as_f64(), expected[0].1[0]);
}

#[tokio::test]
async fn broken_files_are_refused_with_row_and_column_and_store_nothing() {
    let (app, _, acme) = setup().await;
    let token = acme.token("data_scientist");
    let meta = example_meta("sales");
    let negative = EXAMPLE.replacen(
        "2022-01-10,212326.6931486125,4432.97,",
        "2022-01-10,212326.6931486125,-4432.97,",
        1,
    );
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    let duplicate = format!("{EXAMPLE}{}\n", lines[5]);
    let gap = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 10)
        .map(|(_, l)| *l)
        .collect::<Vec<_>>()
        .join("\n");
    let cases: Vec<(&str, String, Option<i64>, &str)> = vec![
        ("negative spend", negative, Some(3), "tv"),
        ("duplicate period", duplicate, Some(158), "date"),
        ("gap", gap, None, "date"),
        (
            "not a number",
            EXAMPLE.replacen(",8777.3,", ",lots,", 1),
            Some(2),
            "search",
        ),
        (
            "not a date",
            EXAMPLE.replacen("2022-01-10", "next monday", 1),
            Some(3),
            "date",
        ),
    ];
    for (what, csv, row, column) in cases {
        let response = upload(&app, token, csv.as_bytes(), "text/csv", &meta).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_data", "{what}: {body}");
        let detail = &body["error"]["details"][0];
        assert_eq!(detail["row"].as_i64(), row, "{what}: {body}");
        assert_eq!(detail["column"], column, "{what}: {body}");
    }
    let short: String = lines[..6].join("\n");
    let constant: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                l.split(',')
                    .enumerate()
                    .map(|(j, c)| if j == 1 { "5" } else { c })
                    .collect::<Vec<_>>()
                    .join(",")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let empty: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                l.rsplit_once(',').unwrap().0.to_owned() + ","
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let whole_column: Vec<(&str, String, &str, &str)> = vec![
        ("too few periods", short, "date", "at least"),
        ("constant KPI", constant, "revenue", "constant"),
        ("empty column", empty, "promo", "entirely empty"),
    ];
    for (what, csv, column, reason) in whole_column {
        let response = upload(&app, token, csv.as_bytes(), "text/csv", &meta).await;
        let body: Value = response.json().await.unwrap();
        let detail = &body["error"]["details"][0];
        assert_eq!(detail["column"], column, "{what}: {body}");
        assert!(
            detail["reason"].as_str().unwrap().contains(reason),
            "{what}: {body}"
        );
    }
    for (what, roles) in [
        (
            "two roles",
            json!({"date": "date", "kpi": "tv", "media": ["tv"]}),
        ),
        (
            "unpaired exposure",
            json!({"date": "date", "kpi": "revenue", "media": ["tv"], "exposure": {"search": "radio"}}),
        ),
    ] {
        let response = upload(
            &app,
            token,
            EXAMPLE.as_bytes(),
            "text/csv",
            &json!({"name": "x", "roles": roles}),
        )
        .await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_data", "{what}: {body}");
    }
    let missing = json!({"name": "sales", "roles": {"date": "date", "kpi": "revenue", "media": ["tv", "podcast"]}});
    let response = upload(&app, token, EXAMPLE.as_bytes(), "text/csv", &missing).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["column"], "podcast", "{body}");
    for (what, bytes, media) in [
        (
            "garbage parquet",
            b"PAR1 not really".to_vec(),
            tables::PARQUET,
        ),
        (
            "garbage arrow",
            b"\xff\xff\xff\xff\x10".to_vec(),
            tables::ARROW_STREAM,
        ),
        (
            "bad utf-8",
            b"date,revenue\n\xff\xfe,1\n".to_vec(),
            "text/csv",
        ),
        (
            "ragged csv",
            b"date,revenue,tv\n2024-01-01,1\n".to_vec(),
            "text/csv",
        ),
    ] {
        let status = upload(&app, token, &bytes, media, &meta).await.status();
        assert!(status.is_client_error(), "{what}: {status}");
    }
    let bad_meta = upload(
        &app,
        token,
        EXAMPLE.as_bytes(),
        "text/csv",
        &json!({"name": "x", "roles": {"date": 1}}),
    )
    .await;
    let body: Value = bad_meta.json().await.unwrap();
    assert!(
        body["error"]["field"]
            .as_str()
            .unwrap()
            .starts_with("meta.roles"),
        "{body}"
    );
    assert_eq!(source_count(&app, token).await, 0, "nothing was stored");
}

#[tokio::test]
async fn uploads_under_one_name_are_versions_and_stay_inside_their_tenant() {
    let (app, admin, acme) = setup().await;
    let other = app.tenant_with_every_role(&admin, "other").await;
    let token = acme.token("data_scientist");
    let first = upload_example(&app, token, "sales").await;
    let changed = EXAMPLE.replacen("6979.98", "6979.99", 1);
    let second = created(
        upload(
            &app,
            token,
            changed.as_bytes(),
            "text/csv",
            &example_meta("sales"),
        )
        .await,
    )
    .await;
    assert_eq!(
        (first["version"].as_i64(), second["version"].as_i64()),
        (Some(1), Some(2))
    );
    assert_ne!(first["sha256"], second["sha256"]);
    let list: Value = app
        .get("/tenant/data/sources?name=sales", acme.token("viewer"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (list["total"].as_i64(), list["items"][0]["version"].as_i64()),
        (Some(1), Some(2))
    );
    let detail: Value = app
        .get(
            &format!("/tenant/data/sources/{}", first["id"].as_str().unwrap()),
            acme.token("viewer"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["versions"].as_array().unwrap().len(), 2);
    assert!(
        (detail["channel_spend"]["tv"].as_f64().unwrap()
            - detail["columns"][2]["sum"].as_f64().unwrap())
        .abs()
            < 1e-9
    );

    // Another tenant sees none of it, whatever it tries.
    let intruder = other.token("tenant_admin");
    assert_eq!(source_count(&app, intruder).await, 0);
    for id in [
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    ] {
        for path in [
            format!("/tenant/data/sources/{id}"),
            format!("/tenant/data/sources/{id}/rows"),
        ] {
            assert_eq!(
                app.get(&path, intruder).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let delete = app
            .delete(&format!("/tenant/data/sources/{id}"), intruder)
            .await;
        assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    }
    let own = upload_example(&app, intruder, "sales").await;
    assert_eq!(own["version"], 1, "names and versions are per tenant");
    let pool = connect_as(&app.database, "mmm_app").await;
    let leaked: i64 = sqlx::query_scalar("select count(*) from data_sources")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(leaked, 0, "no rows without tenant context");

    // Deleting a version leaves the other.
    let first_id = first["id"].as_str().unwrap();
    assert_eq!(
        app.delete(
            &format!("/tenant/data/sources/{first_id}"),
            acme.token("viewer")
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&format!("/tenant/data/sources/{first_id}"), token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/tenant/data/sources/{first_id}"), token)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let stats: Value = app
        .get(&format!("/admin/tenants/{}/statistics", acme.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            stats["data_sources"].as_i64(),
            stats["data_source_versions"].as_i64(),
            stats["data_rows"].as_i64()
        ),
        (Some(1), Some(1), Some(156))
    );
}

#[tokio::test]
async fn the_dashboard_adds_up_the_stored_data() {
    let (app, _, acme) = setup().await;
    let token = acme.token("data_scientist");
    upload_example(&app, token, "sales").await;
    let metrics: Value = app
        .get("/tenant/dashboard/metrics", acme.token("viewer"))
        .await
        .json()
        .await
        .unwrap();
    let source = &metrics["sources"][0];
    let numbers: Vec<(String, Vec<Option<f64>>)> = example_numbers();
    let total = |name: &str| -> f64 {
        numbers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .iter()
            .flatten()
            .sum()
    };
    assert!(
        (source["kpi_total"].as_f64().unwrap() - total("revenue")).abs() < 1e-6 * total("revenue")
    );
    let spend: f64 = ["tv", "search", "social", "display", "radio"]
        .iter()
        .map(|c| total(c))
        .sum();
    assert!((source["spend_total"].as_f64().unwrap() - spend).abs() < 1e-6 * spend);
    assert_eq!(
        source["latest"]["period"],
        EXAMPLE.lines().last().unwrap().split(',').next().unwrap()
    );
    let shares: f64 = source["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-9);
    assert!(source["kpi_change"].is_number());
}

#[tokio::test]
async fn the_sources_list_pages_with_its_total_even_past_the_end() {
    let (app, _admin, acme) = setup().await;
    let token = acme.token("data_scientist");
    for name in ["north", "south", "west"] {
        upload_example(&app, token, name).await;
    }
    let page = |query: &'static str| {
        let app = &app;
        async move {
            let list: Value = app
                .get(&format!("/tenant/data/sources?{query}"), token)
                .await
                .json()
                .await
                .unwrap();
            let names: Vec<String> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["name"].as_str().unwrap().to_owned())
                .collect();
            (list["total"].as_i64().unwrap(), names)
        }
    };
    // Newest first: the page and the total come from one statement.
    assert_eq!(
        page("limit=2").await,
        (3, vec!["west".into(), "south".into()])
    );
    assert_eq!(page("limit=2&offset=2").await, (3, vec!["north".into()]));
    // Past the end the page is empty and the total still counts them all.
    assert_eq!(page("limit=2&offset=5").await, (3, vec![]));
    assert_eq!(page("name=nowhere").await, (0, vec![]));
}
