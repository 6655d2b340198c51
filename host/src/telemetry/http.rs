//! Request metrics: a count and a latency histogram per method, route
//! template and status, and the requests in flight. Layered on the router
//! (not around it) so each request's matched template is known; requests
//! no route matched share the label `unmatched`, so probing random paths
//! cannot grow the label set.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use super::metrics::{HTTP_DURATION, HTTP_IN_FLIGHT, HTTP_REQUESTS, Held};

pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let in_flight = Held::new(metrics::gauge!(HTTP_IN_FLIGHT));
    let response = next.run(req).await;
    drop(in_flight);
    let status = response.status().as_u16().to_string();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Methods outside the standard set share one label.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
