//! Prometheus metrics of this process: request counts and latencies per route, kept and
//! encoded by `prometheus-client` (Prometheus text format 0.0.4).
//!
//! Per-process by design: Prometheus scrapes each server process and sums across them, so nothing
//! here needs to be shared between processes. A request updates atomics under a shared read
//! lock; only the first request of a new (method, route, status) takes a write lock.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::state::AppState;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Labels of the request counter. The route is the template (`/api/v1/authorities/{authority}`),
/// never the raw path, which would blow up the label set.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The process's metrics and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    refused_connections: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let mut registry = Registry::default();
        // Counters get their `_total` suffix from the encoder.
        registry.register(
            "permitseal_http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "permitseal_http_request_duration_seconds",
            "HTTP request latency by method and route",
            latency.clone(),
        );
        let refused_connections = Counter::default();
        registry.register(
            "permitseal_http_connections_refused",
            "Connections closed at accept because the process had its maximum open",
            refused_connections.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            refused_connections,
        }
    }
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Records a connection closed at accept for lack of a free slot.
    pub fn connection_refused(&self) {
        self.refused_connections.inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            // Writing to a String does not fail; should the encoder refuse a value, the scrape
            // shows a gap rather than the service failing.
            tracing::warn!(error = %e, "metrics could not be encoded");
        }
        out
    }
}

/// Middleware: times the request and records it under its route template.
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
        m.observe("POST", "/a \"quoted\"\\route", 201, 0.003);
        let text = m.render();
        for line in [
            "# TYPE permitseal_http_requests_total counter",
            "permitseal_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2",
            "permitseal_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"503\"} 1",
            "# TYPE permitseal_http_request_duration_seconds histogram",
            "permitseal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.001\"} 1",
            "permitseal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.25\"} 3",
            "permitseal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 3",
            "permitseal_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 3",
            "permitseal_http_requests_total{method=\"POST\",route=\"/a \\\"quoted\\\"\\\\route\",status=\"201\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n---\n{text}");
        }
    }
}
