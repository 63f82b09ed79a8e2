//! Prometheus metrics of this process: request counts and latencies per route.
//!
//! Per-process by design: Prometheus scrapes each server process and sums across them, so nothing
//! here needs to be shared between processes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Request metrics keyed by route template, then method. Nested so that recording a request
/// looks up by `&str` and allocates only the first time a (route, method) pair is seen.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, BTreeMap<String, RouteStats>>>,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        // A poisoned lock only means another thread panicked mid-update of plain counters;
        // the counters are still usable.
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let methods = match routes.get_mut(route) {
            Some(m) => m,
            None => routes.entry(route.to_owned()).or_default(),
        };
        let stats = match methods.get_mut(method) {
            Some(s) => s,
            None => methods.entry(method.to_owned()).or_default(),
        };
        *stats.by_status.entry(status).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                stats.buckets[i] += 1;
            }
        }
        stats.count += 1;
        stats.sum_seconds += seconds;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        out.push_str(
            "# HELP permitseal_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE permitseal_http_requests_total counter\n");
        for (route, method, stats) in routes
            .iter()
            .flat_map(|(r, m)| m.iter().map(move |(method, s)| (r, method, s)))
        {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "permitseal_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP permitseal_http_request_duration_seconds HTTP request latency by method and route.\n");
        out.push_str("# TYPE permitseal_http_request_duration_seconds histogram\n");
        for (route, method, stats) in routes
            .iter()
            .flat_map(|(r, m)| m.iter().map(move |(method, s)| (r, method, s)))
        {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "permitseal_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "permitseal_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "permitseal_http_request_duration_seconds_sum{{{labels}}} {}",
                stats.sum_seconds
            );
            let _ = writeln!(
                out,
                "permitseal_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: times the request and records it under its route template (never the raw path,
/// which would blow up the label set).
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    state.metrics.observe(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, 0.0007);
        m.observe("GET", "/healthz", 200, 0.2);
        m.observe("GET", "/healthz", 503, 0.003);
        let text = m.render();
        assert!(text.contains(
            "permitseal_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "permitseal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "permitseal_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 3"
        ));
    }
}
