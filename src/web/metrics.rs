//! Prometheus metrics, served on their own listen address (`--metrics-listen`, off by
//! default) so a scraper needs no session. HTTP requests are labelled by route template
//! (never the raw path: bounded cardinality); the engine and the cloud client feed the
//! cloud-call and run-state series through [`Metrics`] handles.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};

use super::access::RouteLabel;

/// A gauge family: its help text and its series (`label="value",…` → value).
type GaugeFamily = (&'static str, Vec<(String, i64)>);

#[derive(Default)]
struct Inner {
    http: BTreeMap<(String, String, u16), u64>,
    cloud: BTreeMap<(String, String), u64>,
    runs: BTreeMap<String, i64>,
    /// Gauges refreshed from the database at each scrape: name → (help, labels → value).
    gauges: BTreeMap<&'static str, GaugeFamily>,
}

/// Cheap-to-clone metrics registry.
#[derive(Clone, Default)]
pub struct Metrics(Arc<Mutex<Inner>>);

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        // A panic while holding the lock leaves counters usable; metrics are best-effort.
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    pub fn http_request(&self, method: &str, route: &str, status: u16) {
        self.with(|m| {
            *m.http
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1
        });
    }

    /// One cloud API call finished; `outcome` is `ok` or the Tencent error code.
    pub fn cloud_call(&self, action: &str, outcome: &str) {
        self.with(|m| {
            *m.cloud
                .entry((action.to_owned(), outcome.to_owned()))
                .or_default() += 1
        });
    }

    /// The number of runs currently in `state` (refreshed from the database at each scrape).
    pub fn set_runs(&self, state: &str, count: i64) {
        self.with(|m| {
            m.runs.insert(state.to_owned(), count);
        });
    }

    /// Replaces a gauge family; each series is (`label="value",…` already escaped, value).
    pub fn set_gauge(&self, name: &'static str, help: &'static str, series: Vec<(String, i64)>) {
        self.with(|m| {
            m.gauges.insert(name, (help, series));
        });
    }

    /// Drops a gauge family (its value could not be read: no series beats a stale one).
    pub fn clear_gauge(&self, name: &'static str) {
        self.with(|m| {
            m.gauges.remove(name);
        });
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            out.push_str("# HELP natpilot_http_requests_total HTTP requests by route template and status.\n");
            out.push_str("# TYPE natpilot_http_requests_total counter\n");
            for ((method, route, status), n) in &m.http {
                let _ = writeln!(out, "natpilot_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}", esc(method), esc(route));
            }
            out.push_str("# HELP natpilot_cloud_calls_total Cloud API calls by action and outcome.\n");
            out.push_str("# TYPE natpilot_cloud_calls_total counter\n");
            for ((action, outcome), n) in &m.cloud {
                let _ = writeln!(out, "natpilot_cloud_calls_total{{action=\"{}\",outcome=\"{}\"}} {n}", esc(action), esc(outcome));
            }
            out.push_str("# HELP natpilot_runs Runs by state.\n# TYPE natpilot_runs gauge\n");
            for (state, n) in &m.runs {
                let _ = writeln!(out, "natpilot_runs{{state=\"{}\"}} {n}", esc(state));
            }
            for (name, (help, series)) in &m.gauges {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
                for (labels, n) in series {
                    let _ = match labels.is_empty() {
                        true => writeln!(out, "{name} {n}"),
                        false => writeln!(out, "{name}{{{labels}}} {n}"),
                    };
                }
            }
            out
        })
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts each request under its route template (`unmatched` for 404s).
pub async fn track(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or("unmatched", |r| r.0.as_str());
    tracing::Span::current().record("route", route);
    metrics.http_request(&method, route, response.status().as_u16());
    response
}

/// The metrics listener's router: `GET /metrics` only.
pub fn router(metrics: Metrics, store: crate::store::Store) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state((metrics, store))
}

/// Runs by state are counted at scrape time from the database, so the gauge is right even
/// for runs other processes or a restart changed.
async fn scrape(
    State((metrics, store)): State<(Metrics, crate::store::Store)>,
) -> impl IntoResponse {
    match crate::store::runs::count_by_status(store.readers()).await {
        Ok(counts) => {
            for (state, n) in counts {
                metrics.set_runs(&state, n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count runs for the metrics"),
    }
    super::metrics_estate::refresh(&metrics, &store).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

/// Feeds `natpilot_cloud_calls_total` from every call of the cloud client (and its clones).
impl crate::tencent::CallObserver for Metrics {
    fn on_call(&self, record: &crate::tencent::CallRecord) {
        let outcome = match &record.outcome {
            crate::tencent::CallOutcome::Ok => "ok",
            crate::tencent::CallOutcome::Error { code } => code.as_str(),
        };
        self.cloud_call(record.action, outcome);
    }
}
