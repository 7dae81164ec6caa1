//! `GET /metrics`: Prometheus text exposition (version 0.0.4).
//!
//! Runs by status and the outbox backlog are read from the database at scrape time, so
//! every node reports the shared truth. The histogram of step latency is this process's
//! own, kept by the store as its transactions commit ended steps (constant time at any
//! history size; each node counts its own steps, a restart starts from zero, as with any
//! Prometheus histogram). So are the HTTP request counts, labelled by method, route template (`/api/v1/automations/{id}`,
//! never the raw path, so the series stay bounded; `unmatched` for what no route serves)
//! and status. So are the counters of the group-commit writer (groups, requests served, and
//! its time: all of it, starting transactions, committing), whose rates show how busy the
//! one writer every API write waits on is. Rendering is a pure function so that its format
//! is unit-tested.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use automations_runtime::engine::WriteGroupStats;
use automations_runtime::store::{STEP_LATENCY_BOUNDS_MS, StepLatencySnapshot};

/// What one scrape shows.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    /// (status, count), over every workspace.
    pub runs_by_status: Vec<(String, i64)>,
    /// The steps this process ended: cumulative counts per bound of
    /// [`STEP_LATENCY_BOUNDS_MS`], the total count and the sum of their milliseconds.
    pub step_latency: StepLatencySnapshot,
    /// (kind, pending items).
    pub outbox_backlog: Vec<(String, i64)>,
    /// Requests served, by (method, route template, status).
    pub http_requests: Vec<(RequestKey, u64)>,
    /// (source: memory, store, compiled) of plugin components prepared by this process.
    pub plugin_components: Vec<(String, u64)>,
    /// (kind, count) of plugin calls that failed (timeout, panic, memory_exhausted, ...).
    pub plugin_failures: Vec<(String, u64)>,
    /// What this process's group-commit writer did.
    pub write_groups: WriteGroupStats,
}

/// The labels of one request counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestKey {
    /// A standard method, or `other`.
    pub method: &'static str,
    /// The matched route template, or `unmatched`.
    pub route: String,
    pub status: u16,
}

/// The route label of requests no route matched (the web UI's fallback, 404s).
pub const UNMATCHED: &str = "unmatched";

/// Counters kept in memory by this process.
#[derive(Debug, Default)]
pub struct HttpCounters {
    requests: Mutex<BTreeMap<RequestKey, u64>>,
}

impl HttpCounters {
    /// Counts one answered request. `route` is the matched template (`None`: unmatched).
    pub fn count(&self, method: &axum::http::Method, route: Option<&str>, status: u16) {
        let key = RequestKey {
            method: method_label(method),
            route: route.unwrap_or(UNMATCHED).to_string(),
            status,
        };
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *requests.entry(key).or_insert(0) += 1;
    }

    /// Every counter, sorted by its labels.
    pub fn snapshot(&self) -> Vec<(RequestKey, u64)> {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        requests.iter().map(|(k, n)| (k.clone(), *n)).collect()
    }
}

/// Methods are labelled by name only when standard: a client cannot mint new series.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The Prometheus text for a snapshot.
pub fn render(snapshot: &MetricsSnapshot) -> String {
    let mut out = String::new();
    out.push_str("# HELP automations_runs Runs by status.\n# TYPE automations_runs gauge\n");
    for (status, count) in &snapshot.runs_by_status {
        let _ = writeln!(
            out,
            "automations_runs{{status=\"{}\"}} {count}",
            escape(status)
        );
    }
    out.push_str(
        "# HELP automations_step_duration_seconds Latency of the steps this process finished.\n",
    );
    out.push_str("# TYPE automations_step_duration_seconds histogram\n");
    let steps = &snapshot.step_latency;
    for (bound, count) in STEP_LATENCY_BOUNDS_MS.iter().zip(&steps.le) {
        let _ = writeln!(
            out,
            "automations_step_duration_seconds_bucket{{le=\"{}\"}} {count}",
            bound / 1000.0
        );
    }
    let _ = writeln!(
        out,
        "automations_step_duration_seconds_bucket{{le=\"+Inf\"}} {}",
        steps.count
    );
    let _ = writeln!(
        out,
        "automations_step_duration_seconds_sum {}",
        steps.sum_ms / 1000.0
    );
    let _ = writeln!(
        out,
        "automations_step_duration_seconds_count {}",
        steps.count
    );
    out.push_str(
        "# HELP automations_outbox_backlog Outbox deliveries not yet delivered or dead.\n",
    );
    out.push_str("# TYPE automations_outbox_backlog gauge\n");
    for (kind, count) in &snapshot.outbox_backlog {
        let _ = writeln!(
            out,
            "automations_outbox_backlog{{kind=\"{}\"}} {count}",
            escape(kind)
        );
    }
    out.push_str("# HELP automations_http_requests_total HTTP requests served by this process, by method, route template and status.\n");
    out.push_str("# TYPE automations_http_requests_total counter\n");
    for (key, count) in &snapshot.http_requests {
        let _ = writeln!(
            out,
            "automations_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {count}",
            key.method,
            escape(&key.route),
            key.status
        );
    }
    out.push_str("# HELP automations_plugin_components_loaded_total Plugin components prepared by this process, by where the compiled code came from (memory, store, compiled).\n");
    out.push_str("# TYPE automations_plugin_components_loaded_total counter\n");
    for (source, count) in &snapshot.plugin_components {
        let _ = writeln!(
            out,
            "automations_plugin_components_loaded_total{{source=\"{}\"}} {count}",
            escape(source)
        );
    }
    render_write_groups(&mut out, &snapshot.write_groups);
    out.push_str("# HELP automations_plugin_failures_total Plugin calls that failed, by kind (timeout, panic, memory_exhausted, trap, ...).\n");
    out.push_str("# TYPE automations_plugin_failures_total counter\n");
    for (kind, count) in &snapshot.plugin_failures {
        let _ = writeln!(
            out,
            "automations_plugin_failures_total{{kind=\"{}\"}} {count}",
            escape(kind)
        );
    }
    out
}

fn render_write_groups(out: &mut String, w: &WriteGroupStats) {
    let counters: [(&str, &str, String); 5] = [
        (
            "automations_write_groups_total",
            "Groups of queued API writes run by this process's group-commit writer (one transaction each; a group run again with savepoints after a failing request counts once).",
            w.groups.to_string(),
        ),
        (
            "automations_write_group_requests_total",
            "API writes served by those transactions (record writes, batches, event submissions).",
            w.jobs.to_string(),
        ),
        (
            "automations_write_group_seconds_total",
            "Time the group-commit writer spent running groups.",
            w.busy.as_secs_f64().to_string(),
        ),
        (
            "automations_write_group_begin_seconds_total",
            "Of that time, starting transactions (on SQLite a group takes the writer connection at its first read, else at its commit).",
            w.begin.as_secs_f64().to_string(),
        ),
        (
            "automations_write_group_commit_seconds_total",
            "Of that time, committing (waiting for the writer connection when the group read nothing, the rows held back, then the commit).",
            w.commit.as_secs_f64().to_string(),
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let snapshot = MetricsSnapshot {
            runs_by_status: vec![("completed".into(), 3)],
            step_latency: StepLatencySnapshot {
                le: vec![1, 2, 2, 2, 2, 2, 2, 2, 2, 2],
                count: 2,
                sum_ms: 6.0,
            },
            outbox_backlog: vec![("slack".into(), 1)],
            http_requests: vec![(
                RequestKey {
                    method: "GET",
                    route: "/api/v1/automations/{id}".into(),
                    status: 404,
                },
                9,
            )],
            plugin_components: vec![("store".into(), 2)],
            plugin_failures: vec![("timeout".into(), 1)],
            write_groups: WriteGroupStats {
                groups: 2,
                jobs: 5,
                busy: std::time::Duration::from_micros(2_500),
                begin: std::time::Duration::from_micros(500),
                commit: std::time::Duration::from_millis(1),
            },
        };
        let text = render(&snapshot);
        assert!(text.contains("automations_runs{status=\"completed\"} 3\n"));
        assert!(text.contains("automations_step_duration_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("automations_step_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("automations_step_duration_seconds_sum 0.006\n"));
        assert!(text.contains("automations_outbox_backlog{kind=\"slack\"} 1\n"));
        assert!(text.contains("automations_plugin_components_loaded_total{source=\"store\"} 2\n"));
        assert!(text.contains("automations_plugin_failures_total{kind=\"timeout\"} 1\n"));
        assert!(text.contains("# TYPE automations_write_groups_total counter\n"));
        assert!(text.contains("automations_write_groups_total 2\n"));
        assert!(text.contains("automations_write_group_requests_total 5\n"));
        assert!(text.contains("automations_write_group_seconds_total 0.0025\n"));
        assert!(text.contains("automations_write_group_begin_seconds_total 0.0005\n"));
        assert!(text.contains("automations_write_group_commit_seconds_total 0.001\n"));
        assert!(text.contains(
            "automations_http_requests_total{method=\"GET\",route=\"/api/v1/automations/{id}\",status=\"404\"} 9\n"
        ));
    }
}

/// Prometheus metrics (no token needed).
#[utoipa::path(get, path = "/metrics", tag = "meta", security(()), responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain")))]
pub async fn metrics(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> crate::error::ApiResult<impl axum::response::IntoResponse> {
    let snapshot = snapshot(&state).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        render(&snapshot),
    ))
}

async fn snapshot(state: &crate::state::AppState) -> crate::error::ApiResult<MetricsSnapshot> {
    use automations_runtime::model::RunStatus;
    use automations_runtime::store::Store;
    let stats = state.engine().store().stats().await?;
    // Every status is shown, zero or not, so dashboards see a stable series set.
    let runs_by_status = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ]
    .iter()
    .map(|status| {
        let count = stats
            .runs_by_status
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        (status.as_str().to_string(), count)
    })
    .collect();
    let outbox_backlog = ["email", "slack", "webhook"]
        .iter()
        .map(|kind| {
            let count = stats
                .outbox_backlog
                .iter()
                .find(|(k, _)| k == kind)
                .map_or(0, |(_, n)| *n);
            (kind.to_string(), count)
        })
        .collect();
    Ok(MetricsSnapshot {
        runs_by_status,
        step_latency: stats.step_latency,
        outbox_backlog,
        http_requests: state.counters().snapshot(),
        plugin_components: state.plugins().map_or_else(Vec::new, |registry| {
            let counts = registry.load_counts();
            vec![
                ("memory".to_string(), counts.memory),
                ("store".to_string(), counts.store),
                ("compiled".to_string(), counts.compiled),
            ]
        }),
        plugin_failures: state
            .plugins()
            .map_or_else(Vec::new, |registry| registry.failure_counts()),
        write_groups: state.engine().write_group_stats(),
    })
}
