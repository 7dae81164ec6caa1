// One run: its status, record, timing, error, and every step with its resolved input,
// output, effects (applied or recorded only) and error; Retry and Cancel.

import { useState } from "react";
import { describeError, post } from "../api";
import { indexSteps } from "../model/definition";
import { Definition, Step, isIf } from "../model/types";
import { Link } from "../router";
import { Run, StepRun } from "../types";
import { DryRunBadge, JsonView, StatusBadge, Time, duration } from "./common";

/** What a step's own condition (a guard, or an if's test) decided in this run. */
function StepCondition({ step, run }: { step: Step | undefined; run: StepRun }) {
  if (!step) return null;
  if (isIf(step)) {
    const branch = (run.output as { branch?: string } | null | undefined)?.branch;
    return (
      <p className="explain small">
        If <code>{step.condition}</code>: {branch ? <>took <strong>{branch}</strong></> : run.status === "skipped" ? "not reached (its guard was false)" : "not decided"}
      </p>
    );
  }
  if (!step.condition) return null;
  return (
    <p className="explain small">
      Runs only when <code>{step.condition}</code>: {run.status === "skipped" ? <>false, <strong>skipped</strong></> : "true"}
    </p>
  );
}

export function RunView({
  run,
  onChange,
  condition,
  definition,
}: {
  run: Run;
  onChange?: (run: Run) => void;
  condition?: string;
  /** The automation's definition, to show what each step's condition decided. */
  definition?: Definition;
}) {
  const stepsById = new Map(definition ? indexSteps(definition.actions).map((s) => [s.id, s.step]) : []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const control = async (what: "retry" | "cancel") => {
    setBusy(true);
    setError(null);
    try {
      const next = await post<Run>(`/automations/${encodeURIComponent(run.automation_id)}/runs/${encodeURIComponent(run.id)}/${what}`);
      onChange?.(next);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const cancellable = ["queued", "running", "waiting"].includes(run.status);

  return (
    <div className="run" aria-label={`Run ${run.id}`}>
      <dl className="facts">
        <div><dt>Status</dt><dd><StatusBadge status={run.status} /> {run.dry_run && <DryRunBadge />}</dd></div>
        <div><dt>Record</dt><dd>{run.record ? <Link to={`/records/${encodeURIComponent(run.record.object)}/${encodeURIComponent(run.record.id)}`} title="Why automations ran or not on this record"><code>{run.record.object}/{run.record.id}</code></Link> : "—"}</dd></div>
        <div><dt>Version</dt><dd>{run.version}</dd></div>
        <div><dt>Started</dt><dd><Time at={run.started_at} /></dd></div>
        <div><dt>Duration</dt><dd>{duration(run.duration_ms)}</dd></div>
        <div><dt>Event</dt><dd><code className="small">{run.event_id}</code></dd></div>
      </dl>
      {condition !== undefined && (
        <p className="explain">
          <strong>Condition:</strong> {condition ? <code>{condition}</code> : "none (every event)"} —{" "}
          {condition ? "matched on this event (a run exists only when it matches)." : "always runs."}
        </p>
      )}
      {run.error && (
        <p className="error" role="alert">
          {run.error_code && <code>{run.error_code}</code>} {run.error}
        </p>
      )}
      <div className="run-tools">
        {run.status === "failed" && (
          <button type="button" className="secondary small" disabled={busy} onClick={() => void control("retry")}>
            Retry
          </button>
        )}
        {cancellable && (
          <button type="button" className="danger small" disabled={busy} onClick={() => void control("cancel")}>
            Cancel
          </button>
        )}
      </div>
      {error ? <p className="error" role="alert">{describeError(error)}</p> : null}
      <h4>Steps ({run.steps.length})</h4>
      <ol className="run-steps">
        {run.steps.map((s) => (
          <li key={`${s.id}-${s.started_at}`} className={`run-step step-${s.status}`}>
            <div className="run-step-head">
              <strong>{s.id}</strong> <code>{s.type}</code> <StatusBadge status={s.status} />{" "}
              <span className="muted small">{duration(s.duration_ms)}</span>
            </div>
            <StepCondition step={stepsById.get(s.id)} run={s} />
            {s.error && <p className="error small">{s.error}</p>}
            <details>
              <summary>Input, output and effects</summary>
              <div className="io">
                <div>
                  <h5>Input</h5>
                  <JsonView value={s.input} label={`Input of ${s.id}`} />
                </div>
                <div>
                  <h5>Output</h5>
                  <JsonView value={s.output} label={`Output of ${s.id}`} />
                </div>
              </div>
              <h5>Effects</h5>
              {s.effects.length === 0 ? (
                <p className="muted small">None.</p>
              ) : (
                <ul className="effects">
                  {s.effects.map((e, i) => (
                    <li key={i}>
                      <code>{e.kind}</code>{" "}
                      <span className={`badge ${e.applied ? "applied" : "not-applied"}`}>{e.applied ? "applied" : "not applied (dry-run)"}</span>{" "}
                      {e.id && <code className="small">{e.id}</code>}
                      {e.detail !== undefined && e.detail !== null && <JsonView value={e.detail} label={`Effect ${i + 1} of ${s.id}`} />}
                    </li>
                  ))}
                </ul>
              )}
            </details>
          </li>
        ))}
      </ol>
    </div>
  );
}
