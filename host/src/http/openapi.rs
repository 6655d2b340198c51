//! The OpenAPI 3.1 document, generated from the handlers' annotations plus
//! the error responses every route shares; it is also the list of routes the
//! RBAC policy is checked against at start.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Extension;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{Modify, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::Problem;
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// The served document, shared once built.
#[derive(Clone)]
pub struct Document(pub Arc<String>);

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(Extension(doc): Extension<Document>) -> Response {
    (
        [("content-type", "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// A body of bytes (a CSV, an Arrow IPC stream, a wasm component), not JSON.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}

/// Any JSON value the server stores as `jsonb` and gives back: numbers
/// within ±`validate::MAX_STORED_NUMBER`, at any depth.
pub struct StoredJson;

impl PartialSchema for StoredJson {
    fn schema() -> RefOr<Schema> {
        let max = super::validate::MAX_STORED_NUMBER;
        let this = || Ref::from_schema_name(Self::name());
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(SchemaType::from_iter([
                Type::Null,
                Type::Boolean,
                Type::String,
            ])))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(-max))
                    .maximum(Some(max)),
            )
            .item(ArrayBuilder::new().items(this()))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .additional_properties(Some(this())),
            )
            .into()
    }
}

impl ToSchema for StoredJson {}

/// A JSON object of [`StoredJson`] values.
pub struct StoredJsonObject;

impl PartialSchema for StoredJsonObject {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(Ref::from_schema_name(StoredJson::name())))
            .into()
    }
}

impl ToSchema for StoredJsonObject {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((StoredJson::name().into_owned(), StoredJson::schema()));
    }
}

/// Title, version, the bearer scheme and the shared error responses.
pub fn finish(mut api: OpenApi) -> OpenApi {
    api.info.title = "mmm".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some("Multi-tenant Marketing Mix Modeling platform".into());
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    CommonResponses.modify(&mut api);
    api
}

/// The error responses that come from the layers and extractors every route
/// shares rather than from one handler, each added to the operations it
/// applies to unless the operation documents that status itself:
/// - 401, 403 and 429 everywhere: the authorization layer checks any bearer
///   token that is sent, on public routes too, denies by role on the others,
///   and applies the rate limits;
/// - 404 wherever the path has a parameter (an id that is not a UUID, or
///   names nothing the caller can see);
/// - 422 wherever there are query parameters (unknown or invalid ones);
/// - 400, 413, 415 and 422 wherever there is a request body.
struct CommonResponses;

const COMMON: [(&str, &str, &str); 8] = [
    (
        "400",
        "BadRequest",
        "The body is malformed JSON, or could not be read",
    ),
    (
        "401",
        "Unauthorized",
        "No bearer token where one is needed, or the `Authorization` header sent is not a \
         valid bearer token (expired, badly signed, or its account or tenant is gone)",
    ),
    (
        "403",
        "Forbidden",
        "The caller's role may not do this, the token's tenant is suspended, or the \
         subdomain names another tenant than the token",
    ),
    (
        "404",
        "NotFound",
        "Nothing of that id or name that the caller can see",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is larger than this route allows",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body's `Content-Type` is missing or not one this route accepts",
    ),
    (
        "429",
        "TooManyRequests",
        "Over a rate limit: the tenant's requests per second, or (on the anonymous `/auth` \
         routes) the client address's; `Retry-After` says how many seconds to wait",
    ),
    (
        "422",
        "Unprocessable",
        "A field or query parameter is missing, unknown or invalid, or a string holds \
         the NUL character (`field` names it when it can)",
    ),
];

impl Modify for CommonResponses {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let mut schemas = vec![(Problem::name().into_owned(), Problem::schema())];
        Problem::schemas(&mut schemas);
        components.schemas.extend(schemas);
        for (_, name, description) in COMMON {
            let problem = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", problem)
                .build();
            components
                .responses
                .insert(name.to_owned(), RefOr::T(response));
        }
        for item in api.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                add_common_responses(operation);
            }
        }
    }
}

fn add_common_responses(operation: &mut Operation) {
    let has_param = |location: ParameterIn| {
        operation.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == location,
            RefOr::Ref(_) => false,
        })
    };
    let body = operation.request_body.is_some();
    let applies = |status: &str| match status {
        "401" | "403" | "429" => true,
        "404" => has_param(ParameterIn::Path),
        "422" => body || has_param(ParameterIn::Query),
        _ => body,
    };
    let wanted: Vec<_> = COMMON
        .iter()
        .filter(|(status, ..)| applies(status))
        .collect();
    for (status, name, _) in wanted {
        operation
            .responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}

/// Every (path template, METHOD) the document describes.
pub fn routes(api: &OpenApi) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in &api.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                routes.insert((path.clone(), method.to_owned()));
            }
        }
    }
    routes
}

#[cfg(test)]
mod tests {
    //! The document against the routes: what the server answers must be
    //! what the document says, so that clients and fuzzers can rely on it.

    use serde_json::Value;

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    fn document() -> Value {
        serde_json::to_value(crate::http::api().1).unwrap()
    }

    /// (path, method, operation) for every operation.
    fn operations(doc: &Value) -> Vec<(String, &'static str, &Value)> {
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    all.push((path.clone(), method, op));
                }
            }
        }
        assert!(all.len() > 20, "the document lists the routes");
        all
    }

    fn params<'a>(op: &'a Value, location: &str) -> Vec<&'a Value> {
        op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == location).collect())
            .unwrap_or_default()
    }

    fn template_params(path: &str) -> Vec<&str> {
        path.split('{')
            .skip(1)
            .map(|rest| rest.split_once('}').unwrap().0)
            .collect()
    }

    fn statuses(op: &Value) -> Vec<&str> {
        op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn every_path_template_parameter_is_declared_and_no_other() {
        let doc = document();
        for (path, method, op) in operations(&doc) {
            let mut declared: Vec<&str> = params(op, "path")
                .iter()
                .map(|p| {
                    assert_eq!(p["required"], true, "{method} {path}: {p}");
                    assert!(p["schema"].is_object(), "{method} {path}: {p}");
                    p["name"].as_str().unwrap()
                })
                .collect();
            let mut wanted = template_params(&path);
            declared.sort_unstable();
            wanted.sort_unstable();
            assert_eq!(declared, wanted, "{method} {path}");
        }
    }

    /// Headers a route reads itself (beyond `Authorization`), declared as such.
    const HEADER_PARAMS: &[&str] = &["Idempotency-Key"];

    #[test]
    fn query_parameters_are_declared_in_the_query() {
        let doc = document();
        let mut seen = Vec::new();
        for (path, method, op) in operations(&doc) {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if !template_params(&path).contains(&name) {
                    let place = if HEADER_PARAMS.contains(&name) {
                        "header"
                    } else {
                        "query"
                    };
                    assert_eq!(p["in"], place, "{method} {path}: {p}");
                    assert_ne!(p["required"], true, "{method} {path}: {p}");
                    seen.push(name.to_owned());
                }
            }
        }
        for name in ["limit", "offset", "name", "version", "params"] {
            assert!(seen.iter().any(|s| s == name), "query parameter {name}");
        }
    }

    #[test]
    fn every_operation_documents_its_success_and_shared_errors() {
        let doc = document();
        for (path, method, op) in operations(&doc) {
            let statuses = statuses(op);
            let has = |s: &str| statuses.contains(&s);
            assert!(
                statuses.iter().any(|s| s.starts_with('2')),
                "{method} {path}: success status"
            );
            let mut wanted = vec!["401", "403"];
            if op.get("requestBody").is_some() {
                wanted.extend(["400", "413", "415", "422"]);
            }
            if !params(op, "path").is_empty() {
                wanted.push("404");
            }
            if !params(op, "query").is_empty() {
                wanted.push("422");
            }
            for status in wanted {
                assert!(has(status), "{method} {path} documents {status}");
            }
            assert!(
                op.get("security").is_some()
                    || !(path.starts_with("/admin") || path.starts_with("/tenant")),
                "{method} {path} needs a bearer token"
            );
        }
    }

    #[test]
    fn route_specific_statuses_are_documented() {
        let doc = document();
        let status = |path: &str, method: &str, status: &str| {
            doc["paths"][path][method]["responses"]
                .get(status)
                .is_some()
        };
        assert!(status("/auth/login", "post", "429"));
        assert!(status("/admin/tenants", "post", "409"));
        assert!(status("/tenant/users", "post", "409"));
        assert!(status("/tenant/users/{id}", "delete", "409"));
        assert!(status("/readyz", "get", "503"));
        assert!(status("/tenant/plugins/{name}/run", "post", "503"));
        assert!(status("/tenant/plugins/{name}/run", "post", "404"));
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut ids: Vec<&str> = operations(&doc)
            .into_iter()
            .map(|(_, _, op)| op["operationId"].as_str().unwrap())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids repeat");
    }

    /// The links the fuzzer's stateful phase follows name operations that
    /// exist, parameters those operations have, and request body fields
    /// their bodies have; and they chain an upload to a recommendation.
    #[test]
    fn links_name_real_operations_parameters_and_fields() {
        let doc = document();
        let ops = operations(&doc);
        let by_id = |id: &str| {
            ops.iter()
                .find(|(_, _, op)| op["operationId"] == id)
                .map(|(_, _, op)| *op)
                .unwrap_or_else(|| panic!("a link names operation {id}, which does not exist"))
        };
        let mut edges = Vec::new();
        for (path, method, op) in &ops {
            for (status, response) in op["responses"].as_object().unwrap() {
                let Some(links) = response.get("links").and_then(Value::as_object) else {
                    continue;
                };
                assert!(
                    status.starts_with('2'),
                    "{method} {path}: links on {status}"
                );
                for (name, link) in links {
                    let target_id = link["operationId"].as_str().unwrap();
                    let target = by_id(target_id);
                    for (param, expression) in link["parameters"].as_object().into_iter().flatten()
                    {
                        assert!(
                            params(target, "path")
                                .iter()
                                .chain(&params(target, "query"))
                                .any(|p| p["name"] == param.as_str()),
                            "{method} {path} {status} {name}: {target_id} has no parameter {param}"
                        );
                        assert!(expression.as_str().unwrap().starts_with("$response.body#/"));
                    }
                    if let Some(body) = link.get("requestBody") {
                        let schema =
                            &target["requestBody"]["content"]["application/json"]["schema"];
                        let name = schema["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
                        let properties = &doc["components"]["schemas"][name]["properties"];
                        for field in body.as_object().unwrap().keys() {
                            assert!(
                                properties.get(field).is_some(),
                                "{method} {path} {status} {name}: {target_id} has no field {field}"
                            );
                        }
                    }
                    edges.push((op["operationId"].as_str().unwrap(), target_id));
                }
            }
        }
        for edge in [
            ("upload", "run_analysis"),
            ("list_sources", "run_analysis"),
            ("run_analysis", "get_analysis"),
            ("run_analysis", "create_recommendation"),
            ("list", "create_recommendation"),
            ("create_recommendation", "get_recommendation"),
            ("create_experiment", "get_experiment"),
            ("create_tenant_user", "get_user"),
        ] {
            assert!(edges.contains(&edge), "a link {edge:?}");
        }
    }

    #[test]
    fn every_reference_resolves() {
        fn walk<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        refs.push(r);
                    }
                    map.values().for_each(|v| walk(v, refs));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
                _ => {}
            }
        }
        let doc = document();
        let mut refs = Vec::new();
        walk(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "{r} resolves");
        }
    }

    #[test]
    fn bodies_that_are_not_json_are_bytes() {
        let doc = document();
        let mut binary = 0;
        for (path, method, op) in operations(&doc) {
            let bodies = op["responses"]
                .as_object()
                .unwrap()
                .values()
                .chain(op.get("requestBody"))
                .filter_map(|r| r["content"].as_object());
            for content in bodies {
                for (media_type, media) in content {
                    // Multipart bodies are objects whose file parts are bytes;
                    // an event stream is described event by event.
                    if ![
                        "application/json",
                        "multipart/form-data",
                        "text/event-stream",
                    ]
                    .contains(&media_type.as_str())
                    {
                        let schema = &media["schema"];
                        assert_eq!(schema["type"], "string", "{method} {path} {media_type}");
                        assert_eq!(schema["format"], "binary", "{method} {path} {media_type}");
                        binary += 1;
                    }
                }
            }
        }
        let run = &doc["paths"]["/tenant/plugins/{name}/run"]["post"];
        for media_type in ["text/csv", "application/vnd.apache.arrow.stream"] {
            assert!(run["requestBody"]["content"].get(media_type).is_some());
            assert!(run["responses"]["200"]["content"].get(media_type).is_some());
        }
        assert!(binary >= 8);
    }
}
