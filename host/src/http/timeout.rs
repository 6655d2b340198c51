//! The request deadline: a request whose response has not started within
//! `--request-timeout` gets 503 `request_timeout` and its handler is
//! dropped. Dropping is safe for the data: every write runs in a
//! transaction that is rolled back when its handle is dropped unfinished.
//! Only the time until the response starts is counted, so an event stream
//! may stay open after it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::state::AppState;

pub async fn deadline(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let limit = app.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!(crate::telemetry::metrics::SHED, "resource" => "time").increment(1);
            axum::response::IntoResponse::into_response(ApiError::Unavailable {
                code: "request_timeout",
                message: format!(
                    "the request took longer than {} s, the most this server gives one",
                    limit.as_secs()
                ),
                retry_after_secs: 1,
            })
        }
    }
}
