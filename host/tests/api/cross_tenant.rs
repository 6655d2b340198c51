//! Tenant walls as a property: random sequences of two tenants' requests
//! (reads, changes and deletes of users, data sources, analyses,
//! experiments and recommendations, and requests naming them in a body or a
//! filter), each naming an id of its own tenant, of the other tenant or of
//! nobody. A request naming the other tenant's id is answered exactly as
//! one naming nobody's (404 on a path), and after each sequence each
//! tenant's rows, read through its own API, are what its own requests
//! alone could have made of them.
//!
//! One server for the whole test; proptest's `TestRunner` draws a bounded,
//! seeded number of sequences and drives them against it. Each sequence
//! starts from what the tenants hold then (read back, after topping up
//! what earlier sequences deleted), so a shrunk rerun is as valid as the
//! first.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::analyses::{start, tenant_with_data, wait_end};
use crate::api::data::{EXAMPLE, example_meta, upload};
use crate::api::helpers::{PASSWORD, TestApp, TestTenant};

const CASES: u32 = 32;
const SEED: [u8; 32] = *b"mmm cross-tenant property seed 1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    User,
    Source,
    Analysis,
    Experiment,
    Recommendation,
}

const KINDS: [Kind; 5] = [
    Kind::User,
    Kind::Source,
    Kind::Analysis,
    Kind::Experiment,
    Kind::Recommendation,
];

/// Whose id a request names, relative to the tenant that sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Whose {
    Own,
    Other,
    /// A UUID no tenant has.
    Nobody,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    GetUser,
    /// To one of the non-admin roles (index into `NON_ADMIN`).
    PatchUser(usize),
    DeleteUser,
    GetSource,
    SourceRows,
    DeleteSource,
    /// `GET /tenant/analysis?source_id=`.
    AnalysesOfSource,
    /// `POST /tenant/analysis/run` on a source of the other tenant or of nobody.
    RunOnSource,
    /// `POST /tenant/analysis/run` on an own source, handing an experiment
    /// of the other tenant or of nobody.
    RunWithExperiment,
    GetAnalysis,
    Decomposition,
    CancelAnalysis,
    /// `GET /tenant/recommendations?analysis_id=`.
    DefaultRecommendation,
    /// `GET /tenant/recommendations/saved?analysis_id=`.
    RecommendationsOf,
    CreateRecommendation,
    GetExperiment,
    DeleteExperiment,
    GetRecommendation,
}

impl Action {
    fn kind(self) -> Kind {
        use Action::*;
        match self {
            GetUser | PatchUser(_) | DeleteUser => Kind::User,
            GetSource | SourceRows | DeleteSource | AnalysesOfSource | RunOnSource => Kind::Source,
            RunWithExperiment | GetExperiment | DeleteExperiment => Kind::Experiment,
            GetAnalysis
            | Decomposition
            | CancelAnalysis
            | DefaultRecommendation
            | RecommendationsOf
            | CreateRecommendation => Kind::Analysis,
            GetRecommendation => Kind::Recommendation,
        }
    }

    /// Whether the request would queue a fit when it names an own id: such
    /// requests only name the other tenant's ids or nobody's.
    fn never_own(self) -> bool {
        matches!(self, Action::RunOnSource | Action::RunWithExperiment)
    }
}

const NON_ADMIN: [&str; 3] = ["viewer", "analyst", "data_scientist"];

#[derive(Clone, Copy, Debug)]
struct Op {
    /// 0 or 1: which tenant sends it.
    actor: usize,
    whose: Whose,
    action: Action,
    /// Picks the id among the ever-seen ids of that tenant and kind.
    pick: usize,
}

fn action() -> impl Strategy<Value = Action> {
    use Action::*;
    prop_oneof![
        3 => Just(GetUser),
        2 => (0..NON_ADMIN.len()).prop_map(PatchUser),
        2 => Just(DeleteUser),
        2 => Just(GetSource),
        1 => Just(SourceRows),
        2 => Just(DeleteSource),
        1 => Just(AnalysesOfSource),
        1 => Just(RunOnSource),
        1 => Just(RunWithExperiment),
        2 => Just(GetAnalysis),
        1 => Just(Decomposition),
        1 => Just(CancelAnalysis),
        1 => Just(DefaultRecommendation),
        1 => Just(RecommendationsOf),
        1 => Just(CreateRecommendation),
        2 => Just(GetExperiment),
        2 => Just(DeleteExperiment),
        2 => Just(GetRecommendation),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let whose = prop_oneof![
        4 => Just(Whose::Own),
        4 => Just(Whose::Other),
        1 => Just(Whose::Nobody),
    ];
    (0..2usize, whose, action(), any::<usize>()).prop_map(|(actor, whose, action, pick)| {
        let whose = if action.never_own() && whose == Whose::Own {
            Whose::Other
        } else {
            whose
        };
        Op {
            actor,
            whose,
            action,
            pick,
        }
    })
}

/// What one tenant holds, as its own list routes show it: id → row.
#[derive(Clone, Debug, Default, PartialEq)]
struct Rows(BTreeMap<Kind, BTreeMap<String, Value>>);

impl Rows {
    fn of(&self, kind: Kind) -> &BTreeMap<String, Value> {
        &self.0[&kind]
    }

    fn of_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Value> {
        self.0.get_mut(&kind).unwrap()
    }
}

/// One tenant as the test sees it.
struct Side {
    slug: &'static str,
    tenant: TestTenant,
    /// Every id of each kind this tenant ever had, deleted ones too.
    seen: BTreeMap<Kind, Vec<String>>,
    /// Data sources analyses were run on (their delete is refused).
    analysed: BTreeSet<String>,
    /// A source of the tenant that stays (an experiment's dates must be in the data).
    kept_source: String,
    created: usize,
}

impl Side {
    fn token(&self) -> &str {
        self.tenant.token("tenant_admin")
    }

    fn admin_id(&self) -> &str {
        self.tenant.user_id("tenant_admin")
    }

    fn remember(&mut self, rows: &Rows) {
        for kind in KINDS {
            let seen = self.seen.entry(kind).or_default();
            for id in rows.of(kind).keys() {
                if !seen.contains(id) {
                    seen.push(id.clone());
                }
            }
        }
    }
}

type Outcome = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Status and JSON body (`Null` when there is none or it is not JSON).
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.request(method, path, Some(token));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let is_json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = if is_json {
        response.json().await.unwrap_or(Value::Null)
    } else {
        let _ = response.bytes().await;
        Value::Null
    };
    (status, body)
}

/// The `error` object of a problem, with the id asked for in its message
/// blanked out.
fn problem(body: &Value, id: &str) -> Value {
    let mut error = body["error"].clone();
    if let Some(message) = error["message"].as_str() {
        error["message"] = json!(message.replace(id, "<id>"));
    }
    error
}

/// Every row of a list route (the page limit is 200).
async fn list(app: &TestApp, token: &str, path: &str) -> Result<BTreeMap<String, Value>, String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, body) = send(
        app,
        Method::GET,
        &format!("{path}{sep}limit=200"),
        token,
        None,
    )
    .await;
    ensure!(status == StatusCode::OK, "GET {path}: {status} {body}");
    let items = body["items"]
        .as_array()
        .ok_or(format!("GET {path}: {body}"))?;
    ensure!(
        body["total"].as_u64() == Some(items.len() as u64),
        "GET {path}: more than a page, or a wrong total: {body}"
    );
    Ok(items
        .iter()
        .map(|item| (item["id"].as_str().unwrap().to_owned(), item.clone()))
        .collect())
}

async fn rows(app: &TestApp, token: &str) -> Result<Rows, String> {
    let mut rows = BTreeMap::new();
    rows.insert(Kind::User, list(app, token, "/tenant/users").await?);
    rows.insert(
        Kind::Source,
        list(app, token, "/tenant/data/sources").await?,
    );
    rows.insert(Kind::Analysis, list(app, token, "/tenant/analysis").await?);
    rows.insert(
        Kind::Experiment,
        list(app, token, "/tenant/experiments").await?,
    );
    rows.insert(
        Kind::Recommendation,
        list(app, token, "/tenant/recommendations/saved").await?,
    );
    Ok(Rows(rows))
}

/// A go-dark test on TV in the example's first spring.
fn holdout(name: &str) -> Value {
    json!({
        "name": name,
        "channel": "tv",
        "start": "2022-03-07",
        "end": "2022-03-27",
        "spend_change": -18000.0,
        "lift": -30000.0,
        "standard_error": 8000.0,
    })
}

/// Tops up what earlier sequences deleted: two users besides the admin,
/// a data source without analyses, two experiments.
async fn top_up(app: &TestApp, side: &mut Side) -> Outcome {
    let current = rows(app, side.token()).await?;
    let users = current.of(Kind::User).len();
    for _ in users..3 {
        side.created += 1;
        let email = format!("extra{}@{}.test", side.created, side.slug);
        let body = json!({ "email": email, "password": PASSWORD, "role": "viewer" });
        let (status, body) =
            send(app, Method::POST, "/tenant/users", side.token(), Some(body)).await;
        ensure!(
            status == StatusCode::CREATED,
            "create a user: {status} {body}"
        );
    }
    let deletable = current
        .of(Kind::Source)
        .keys()
        .filter(|id| !side.analysed.contains(*id))
        .count();
    if deletable == 0 {
        side.created += 1;
        let meta = example_meta(&format!("extra-{}", side.created));
        let response = upload(app, side.token(), EXAMPLE.as_bytes(), "text/csv", &meta).await;
        ensure!(
            response.status() == StatusCode::CREATED,
            "upload: {}",
            response.status()
        );
    }
    for _ in current.of(Kind::Experiment).len()..2 {
        side.created += 1;
        let body = holdout(&format!("holdout {}", side.created));
        let (status, body) = send(
            app,
            Method::POST,
            "/tenant/experiments",
            side.token(),
            Some(body),
        )
        .await;
        ensure!(
            status == StatusCode::CREATED,
            "create an experiment: {status} {body}"
        );
    }
    Ok(())
}

/// The two tenants, each with every role, a fitted analysis of the
/// example, its default recommendation, a second data source and an
/// experiment.
async fn side(app: &TestApp, admin: &str, slug: &'static str) -> Side {
    let (tenant, source) = tenant_with_data(app, admin, slug).await;
    let token = tenant.token("tenant_admin").to_owned();
    let body = json!({ "source_id": source, "params": { "budget": 2000 }, "seed": 3, "preprocessors": [] });
    let queued = start(app, &token, body).await;
    let id = queued["id"].as_str().unwrap();
    let done = wait_end(app, &token, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let (status, body) = send(
        app,
        Method::GET,
        &format!("/tenant/recommendations?analysis_id={id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut side = Side {
        slug,
        tenant,
        seen: BTreeMap::new(),
        analysed: BTreeSet::from([source.clone()]),
        kept_source: source,
        created: 0,
    };
    top_up(app, &mut side).await.unwrap();
    side
}

/// What a tenant's own request did to its rows, checked against what it
/// answered; `rows` is what the tenant holds as far as its own requests go.
struct Expect<'a> {
    rows: &'a mut Rows,
    side: &'a Side,
}

impl Expect<'_> {
    fn live(&self, kind: Kind, id: &str) -> bool {
        self.rows.of(kind).contains_key(id)
    }
}

fn path_of(action: Action, id: &str) -> (Method, String, Option<Value>) {
    use Action::*;
    match action {
        GetUser => (Method::GET, format!("/tenant/users/{id}"), None),
        PatchUser(role) => (
            Method::PATCH,
            format!("/tenant/users/{id}"),
            Some(json!({ "role": NON_ADMIN[role] })),
        ),
        DeleteUser => (Method::DELETE, format!("/tenant/users/{id}"), None),
        GetSource => (Method::GET, format!("/tenant/data/sources/{id}"), None),
        SourceRows => (Method::GET, format!("/tenant/data/sources/{id}/rows"), None),
        DeleteSource => (Method::DELETE, format!("/tenant/data/sources/{id}"), None),
        AnalysesOfSource => (
            Method::GET,
            format!("/tenant/analysis?source_id={id}"),
            None,
        ),
        RunOnSource => (
            Method::POST,
            "/tenant/analysis/run".into(),
            Some(json!({ "source_id": id, "params": { "budget": 2000 }, "preprocessors": [] })),
        ),
        // Completed with the sender's own source in `run`.
        RunWithExperiment => (Method::POST, "/tenant/analysis/run".into(), None),
        GetAnalysis => (Method::GET, format!("/tenant/analysis/{id}"), None),
        Decomposition => (
            Method::GET,
            format!("/tenant/analysis/{id}/decomposition"),
            None,
        ),
        CancelAnalysis => (Method::POST, format!("/tenant/analysis/{id}/cancel"), None),
        DefaultRecommendation => (
            Method::GET,
            format!("/tenant/recommendations?analysis_id={id}"),
            None,
        ),
        RecommendationsOf => (
            Method::GET,
            format!("/tenant/recommendations/saved?analysis_id={id}"),
            None,
        ),
        CreateRecommendation => (
            Method::POST,
            "/tenant/recommendations".into(),
            Some(json!({ "analysis_id": id })),
        ),
        GetExperiment => (Method::GET, format!("/tenant/experiments/{id}"), None),
        DeleteExperiment => (Method::DELETE, format!("/tenant/experiments/{id}"), None),
        GetRecommendation => (Method::GET, format!("/tenant/recommendations/{id}"), None),
    }
}

async fn request(
    app: &TestApp,
    sender: &Side,
    action: Action,
    id: &str,
) -> (StatusCode, Value, String) {
    let (method, path, mut body) = path_of(action, id);
    if let Action::RunWithExperiment = action {
        body = Some(json!({
            "source_id": sender.kept_source,
            "params": { "budget": 2000 },
            "preprocessors": [],
            "experiments": [id],
        }));
    }
    let label = format!("{method} {path}");
    let (status, answer) = send(app, method, &path, sender.token(), body).await;
    (status, answer, label)
}

/// A request naming the other tenant's id (or nobody's) is answered as
/// one naming nobody's would be: 404 on a path; the same refusal in a
/// body; an empty page in a filter. Nothing changes.
async fn foreign(app: &TestApp, sender: &Side, action: Action, id: &str) -> Outcome {
    use Action::*;
    let (status, body, label) = request(app, sender, action, id).await;
    let nobody = Uuid::new_v4().to_string();
    let (status_nobody, body_nobody, _) = request(app, sender, action, &nobody).await;
    ensure!(
        status == status_nobody && problem(&body, id) == problem(&body_nobody, &nobody),
        "{label} (not the sender's id): {status} {body}, but for an id of nobody's {status_nobody} {body_nobody}"
    );
    match action {
        AnalysesOfSource | RecommendationsOf => {
            ensure!(
                status == StatusCode::OK && body["total"] == 0 && body["items"] == json!([]),
                "{label} (not the sender's id): {status} {body}"
            );
        }
        RunOnSource | RunWithExperiment => {
            ensure!(
                status == StatusCode::UNPROCESSABLE_ENTITY,
                "{label} (not the sender's id): {status} {body}"
            );
        }
        _ => {
            ensure!(
                status == StatusCode::NOT_FOUND,
                "{label} (not the sender's id): {status} {body}"
            );
        }
    }
    Ok(())
}

/// A request of a tenant naming its own id: answered as its rows say,
/// and its rows changed as the answer says.
async fn own(app: &TestApp, expect: &mut Expect<'_>, action: Action, id: &str) -> Outcome {
    use Action::*;
    let (status, body, label) = request(app, expect.side, action, id).await;
    let live = expect.live(action.kind(), id);
    let want = |code: StatusCode| -> Outcome {
        ensure!(
            status == code,
            "{label} (own id, live: {live}): {status} {body}, wanted {code}"
        );
        Ok(())
    };
    // A filter naming a deleted source is an empty page, not a 404.
    if !live && action == AnalysesOfSource {
        want(StatusCode::OK)?;
        ensure!(body["total"] == 0, "{label} (a deleted source): {body}");
        return Ok(());
    }
    if !live {
        return want(StatusCode::NOT_FOUND);
    }
    let is_admin = id == expect.side.admin_id();
    match action {
        GetUser | GetSource | GetExperiment | GetRecommendation | GetAnalysis => {
            want(StatusCode::OK)?;
            ensure!(body["id"] == id, "{label}: {body}");
            if action == GetUser {
                ensure!(
                    body["role"] == expect.rows.of(Kind::User)[id]["role"],
                    "{label}: {body}"
                );
            }
        }
        PatchUser(_) if is_admin => want(StatusCode::CONFLICT)?,
        PatchUser(role) => {
            want(StatusCode::OK)?;
            ensure!(body["role"] == NON_ADMIN[role], "{label}: {body}");
            expect.rows.of_mut(Kind::User).insert(id.to_owned(), body);
        }
        DeleteUser if is_admin => want(StatusCode::CONFLICT)?,
        DeleteSource if expect.side.analysed.contains(id) => want(StatusCode::CONFLICT)?,
        DeleteUser | DeleteSource | DeleteExperiment => {
            want(StatusCode::NO_CONTENT)?;
            expect.rows.of_mut(action.kind()).remove(id);
        }
        SourceRows | Decomposition => want(StatusCode::OK)?,
        AnalysesOfSource | RecommendationsOf => {
            want(StatusCode::OK)?;
            let field = if action == AnalysesOfSource {
                "/inputs/source/id"
            } else {
                "/analysis_id"
            };
            let items = body["items"].as_array().cloned().unwrap_or_default();
            ensure!(
                items
                    .iter()
                    .all(|item| item.pointer(field) == Some(&json!(id))),
                "{label}: {body}"
            );
            if action == RecommendationsOf {
                ensure!(
                    !items.is_empty(),
                    "{label}: the default recommendation is missing: {body}"
                );
            }
        }
        RunOnSource | RunWithExperiment => unreachable!("never sent with an own id"),
        CancelAnalysis => want(StatusCode::CONFLICT)?,
        DefaultRecommendation => {
            want(StatusCode::OK)?;
            ensure!(
                body["analysis_id"] == id && body["is_default"] == true,
                "{label}: {body}"
            );
        }
        CreateRecommendation => {
            want(StatusCode::CREATED)?;
            ensure!(body["analysis_id"] == id, "{label}: {body}");
            let new = body["id"].as_str().unwrap_or_default().to_owned();
            expect
                .rows
                .of_mut(Kind::Recommendation)
                .insert(new, Value::Null);
        }
    }
    Ok(())
}

/// Compares what a tenant holds with what its own requests made of it:
/// the same ids, and the same rows (a row only the test knows was created
/// is `Null` in `expected`: any content).
fn same_rows(slug: &str, expected: &Rows, actual: &Rows) -> Outcome {
    for kind in KINDS {
        let (want, got) = (expected.of(kind), actual.of(kind));
        let want_ids: Vec<_> = want.keys().collect();
        let got_ids: Vec<_> = got.keys().collect();
        ensure!(
            want_ids == got_ids,
            "{slug}'s {kind:?} rows: {got_ids:?}, but its own requests leave {want_ids:?}"
        );
        for (id, row) in want {
            ensure!(
                row.is_null() || *row == got[id],
                "{slug}'s {kind:?} {id}: {}, but its own requests leave {row}",
                got[id]
            );
        }
    }
    Ok(())
}

/// How often each (whose id, action, answer) came up, printed at the end
/// to show what the cases covered.
type Tally = BTreeMap<String, usize>;

async fn sequence(app: &TestApp, sides: &mut [Side; 2], ops: &[Op], tally: &mut Tally) -> Outcome {
    let mut expected = Vec::new();
    for side in sides.iter_mut() {
        top_up(app, side).await?;
        let now = rows(app, side.token()).await?;
        side.remember(&now);
        expected.push(now);
    }
    for op in ops {
        let kind = op.action.kind();
        let owner = match op.whose {
            Whose::Own => Some(op.actor),
            Whose::Other => Some(1 - op.actor),
            Whose::Nobody => None,
        };
        let id = match owner {
            Some(owner) => {
                let seen = &sides[owner].seen[&kind];
                seen[op.pick % seen.len()].clone()
            }
            None => Uuid::new_v4().to_string(),
        };
        let sender = &sides[op.actor];
        if owner == Some(op.actor) {
            let mut expect = Expect {
                rows: &mut expected[op.actor],
                side: sender,
            };
            own(app, &mut expect, op.action, &id).await?;
        } else {
            foreign(app, sender, op.action, &id).await?;
        }
        let action = format!("{:?}", op.action);
        let action = action.split('(').next().unwrap();
        *tally.entry(format!("{:?} {action}", op.whose)).or_default() += 1;
    }
    for (side, expected) in sides.iter_mut().zip(&expected) {
        let now = rows(app, side.token()).await?;
        side.remember(&now);
        same_rows(side.slug, expected, &now)?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_naming_the_other_tenants_ids_neither_see_nor_change_them() {
    let app = TestApp::spawn_with_workers(2).await;
    let admin = app.admin_token().await;
    let began = std::time::Instant::now();
    // Both fits at once, one per worker.
    let (a, b) = tokio::join!(side(&app, &admin, "wall-a"), side(&app, &admin, "wall-b"));
    println!(
        "two tenants fitted in {:.0} s",
        began.elapsed().as_secs_f64()
    );
    let sides = RefCell::new([a, b]);
    let tally = RefCell::new(Tally::new());
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let strategy = prop::collection::vec(op(), 1..16);
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&strategy, |ops| {
            let mut sides = sides.borrow_mut();
            let mut tally = tally.borrow_mut();
            handle
                .block_on(sequence(&app, &mut sides, &ops, &mut tally))
                .map_err(TestCaseError::fail)
        })
    });
    println!(
        "{CASES} sequences in {:.0} s in all; requests by whose id and action: {:#?}",
        began.elapsed().as_secs_f64(),
        tally.borrow()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
