//! Prometheus metrics of this process: request counts and latencies per route, kept and
//! encoded by `prometheus-client` (Prometheus text format 0.0.4). The HTTP middleware that
//! records requests is `http::edge`; this registry knows nothing of HTTP types, so the
//! application state can hold it without importing the HTTP layer.
//!
//! Per-process by design: Prometheus scrapes each server process and sums across them, so nothing
//! here needs to be shared between processes. A request updates atomics under a shared read
//! lock; only the first request of a new (method, route, status) takes a write lock.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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
    method: &'static str,
    route: &'static str,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
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
    /// Every route label seen, kept for the life of the process so that a request's labels
    /// borrow them instead of allocating. Routes are the router's templates (a fixed set, a few
    /// dozen), never raw paths, so this cannot grow beyond the routes the server has.
    routes: RwLock<HashSet<&'static str>>,
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
            routes: RwLock::default(),
        }
    }
}

impl Metrics {
    /// Records one finished request. `route` is a route template (`/api/v1/authorities/{authority}`),
    /// never a raw path: each distinct one is kept for the life of the process.
    pub fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let route = self.route_label(route);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }

    /// The kept copy of a route label, made on its first request.
    fn route_label(&self, route: &str) -> &'static str {
        // A poisoned lock still holds a valid set: the only writer inserts whole entries.
        if let Some(kept) = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)
        {
            return kept;
        }
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = routes.get(route) {
            return kept;
        }
        let kept: &'static str = Box::leak(route.into());
        routes.insert(kept);
        kept
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
