// The Backtest panel of an automation's page: replay past events through one version of it
// (nothing is written or sent), follow the job every second, then show the totals, the
// effects grouped by kind and target, and sample runs with why they matched.

import { useEffect, useRef, useState } from "react";
import { ApiError, Page, get } from "../api";
import { Automation } from "../types";
import {
  Backtest,
  BacktestForm,
  RANGES,
  SampleRun,
  backtestBody,
  cancelBacktest,
  isFinished,
  progressText,
  runsText,
  startBacktest,
  valuesText,
  watchBacktest,
} from "../model/backtest";
import { ErrorBox, Section, StatusBadge, Time, duration } from "./common";
import { ExplanationView } from "./Explanation";

export function BacktestPanel({ automation }: { automation: Automation }) {
  const [form, setForm] = useState<BacktestForm>({ range: "7d", from: "", to: "", limit: "1000", version: "draft" });
  const [job, setJob] = useState<Backtest | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const hasSandboxCopy = useSandboxCopy(automation);
  const watching = useRef<AbortController | null>(null);
  useEffect(() => () => watching.current?.abort(), []);

  const set = (field: keyof BacktestForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [field]: e.target.value }));
  const running = !!job && !isFinished(job);

  const start = async () => {
    const body = backtestBody(form, new Date());
    setError(null);
    if ("error" in body) {
      setError(new ApiError(0, "invalid_form", body.error));
      return;
    }
    watching.current?.abort();
    const controller = new AbortController();
    watching.current = controller;
    setBusy(true);
    try {
      const started = await startBacktest(automation.id, body);
      setJob(started);
      setBusy(false);
      await watchBacktest(started, setJob, { signal: controller.signal });
    } catch (e) {
      if (!controller.signal.aborted) setError(e);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    if (!job) return;
    setError(null);
    try {
      setJob(await cancelBacktest(automation.id, job.id));
      watching.current?.abort();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Section title="Backtest">
      <p className="muted">Replays past events through this automation: what it would have done. Nothing is written or sent.</p>
      <form
        className="toolbar backtest-form"
        aria-label="Backtest settings"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <label>
          <span>Range</span>
          <select value={form.range} onChange={set("range")} disabled={running}>
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>{r.label}</option>
            ))}
            <option value="custom">Custom…</option>
          </select>
        </label>
        {form.range === "custom" && (
          <>
            <label>
              <span>From</span>
              <input type="datetime-local" value={form.from} onChange={set("from")} disabled={running} />
            </label>
            <label>
              <span>To</span>
              <input type="datetime-local" value={form.to} onChange={set("to")} disabled={running} />
            </label>
          </>
        )}
        <label>
          <span>Event limit</span>
          <input className="narrow" inputMode="numeric" value={form.limit} onChange={set("limit")} disabled={running} />
        </label>
        <label>
          <span>Version to replay</span>
          <select value={form.version} onChange={set("version")} disabled={running}>
            <option value="draft">Current (version {automation.version})</option>
            {Array.from({ length: Math.max(0, automation.version - 1) }, (_, i) => automation.version - 1 - i).map((v) => (
              <option key={v} value={String(v)}>Version {v}</option>
            ))}
            {hasSandboxCopy && <option value="sandbox">Its sandbox copy</option>}
          </select>
        </label>
        <button type="submit" disabled={busy || running}>
          {busy ? "Starting…" : "Run backtest"}
        </button>
        {running && (
          <button type="button" className="danger" onClick={() => void cancel()} aria-label="Cancel backtest">
            Cancel
          </button>
        )}
      </form>
      <ErrorBox error={error} />
      {job && <BacktestView job={job} />}
    </Section>
  );
}

/** Whether a live automation has a sandbox copy (the `sandbox` version choice). */
function useSandboxCopy(automation: Automation): boolean {
  const [has, setHas] = useState(false);
  useEffect(() => {
    if (automation.environment !== "live") return;
    get<Page<Automation>>("/automations?environment=sandbox&limit=200").then(
      (p) => setHas(p.items.some((a) => a.shadows_id === automation.id && a.status !== "archived")),
      () => setHas(false),
    );
  }, [automation.id, automation.environment]);
  return has;
}

function BacktestView({ job }: { job: Backtest }) {
  if (!isFinished(job)) {
    return (
      <p className="notice" role="status" aria-live="polite">
        {progressText(job)}
      </p>
    );
  }
  if (job.status !== "completed" || !job.result) {
    return (
      <p role="status">
        Backtest <StatusBadge status={job.status} />
        {job.error ? `: ${job.error}` : "."} {job.progress.events_considered.toLocaleString("en-US")} events were considered.
      </p>
    );
  }
  const r = job.result;
  return (
    <div className="backtest-result" aria-label="Backtest result">
      <p>
        <strong>
          {r.events_matched.toLocaleString("en-US")} of {r.events_considered.toLocaleString("en-US")} events matched
        </strong>{" "}
        <code className="small">{r.trigger}</code> · version {job.version} · {runsText(r.runs)} · took {duration(r.elapsed_ms)}
      </p>
      {r.truncated && (
        <p className="muted">
          Stopped at the event limit ({job.request.limit.toLocaleString("en-US")}): the last event replayed is from <Time at={r.last_event_at} />.
        </p>
      )}
      <h3>Effects</h3>
      {r.effects.groups.length === 0 ? (
        <p className="muted empty">No effects: nothing would have been written or sent.</p>
      ) : (
        <div className="table-wrap">
          <table className="list" aria-label="Backtest effects">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Target</th>
                <th scope="col">Count</th>
                <th scope="col">Values written</th>
              </tr>
            </thead>
            <tbody>
              {r.effects.groups.map((g) => (
                <tr key={`${g.kind} ${g.target}`}>
                  <td data-label="Kind"><code>{g.kind}</code></td>
                  <td data-label="Target"><code className="small">{g.target}</code></td>
                  <td data-label="Count">{g.count.toLocaleString("en-US")}</td>
                  <td data-label="Values written">{valuesText(g) || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(r.effects.more ?? 0) > 0 && <p className="muted">… and {r.effects.more} more effects in groups not listed.</p>}
      <Samples title="Sample runs" samples={r.sample_runs} empty="No event matched." />
      <Samples title="Sample events that did not match" samples={r.sample_non_matches} empty="Every event matched." />
    </div>
  );
}

function Samples({ title, samples, empty }: { title: string; samples: SampleRun[]; empty: string }) {
  return (
    <>
      <h3>{title}</h3>
      {samples.length === 0 ? (
        <p className="muted empty">{empty}</p>
      ) : (
        <ul className="backtest-samples" aria-label={title}>
          {samples.map((s) => (
            <li key={s.event_id}>
              <details>
                <summary>
                  <code className="small">{s.event_type}</code>{" "}
                  {s.record?.object && s.record?.id ? <code className="small">{String(s.record.object)}/{String(s.record.id)}</code> : null}{" "}
                  <Time at={s.event_at} /> {s.status && <StatusBadge status={s.status} />}
                  {s.error && <span className="error-text"> {s.error}</span>}
                </summary>
                <ExplanationView value={s.explanation} />
                {s.steps.length > 0 && (
                  <pre className="json" tabIndex={0} aria-label={`Steps of the run on event ${s.event_id}`}>
                    {JSON.stringify(s.steps, null, 2)}
                  </pre>
                )}
              </details>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
