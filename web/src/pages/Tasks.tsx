import { FormEvent, useState } from "react";
import { ApiError, describeError, get, post } from "../api";
import { DryRunBadge, ErrorBox, Loading, MoreButton, StatusBadge, Time, usePaged, useInterval } from "../components/common";
import { Json, JsonObject } from "../model/types";
import { Link } from "../router";
import { Run, Task } from "../types";

const TASK_STATUSES = ["open", "completed", "timed_out", "cancelled"];

/** The inbox: human tasks, each completable with its form. */
export function TasksPage() {
  const [status, setStatus] = useState("open");
  const tasks = usePaged<Task>("/tasks", { status });
  return (
    <>
      <div className="page-head">
        <h1>Tasks</h1>
        <button type="button" className="secondary" onClick={() => void tasks.reload()}>
          Refresh
        </button>
      </div>
      <div className="toolbar">
        <label>
          <span>Task status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {TASK_STATUSES.map((s) => (
              <option key={s} value={s}>{s.replace("_", " ")}</option>
            ))}
            <option value="">all</option>
          </select>
        </label>
      </div>
      <ErrorBox error={tasks.error} retry={() => void tasks.reload()} />
      {tasks.loading && tasks.items.length === 0 ? (
        <Loading what="tasks" />
      ) : tasks.items.length === 0 ? (
        <p className="muted empty">No {status ? status.replace("_", " ") : ""} tasks. Human task steps of running automations appear here.</p>
      ) : (
        <ul className="tasks">
          {tasks.items.map((t) => (
            <li key={t.id}>
              <TaskCard task={t} />
            </li>
          ))}
        </ul>
      )}
      <MoreButton hasMore={tasks.hasMore} loading={tasks.loading} onClick={tasks.loadMore} />
    </>
  );
}

function initial(form: JsonObject): Record<string, string | boolean> {
  return Object.fromEntries(Object.entries(form).map(([k, t]) => [k, t === "bool" ? false : ""]));
}

/** The output the form's values stand for: typed per the form, blank optional values left out. */
function output(form: JsonObject, values: Record<string, string | boolean>): JsonObject {
  const out: JsonObject = {};
  for (const [name, type] of Object.entries(form)) {
    const v = values[name];
    if (type === "bool") out[name] = Boolean(v);
    else if (type === "number") {
      if (v !== "") out[name] = Number(v) as Json;
    } else if (v !== "") out[name] = String(v);
  }
  return out;
}

const TERMINAL = ["completed", "failed", "cancelled"];

function TaskCard({ task }: { task: Task }) {
  const form = (task.form ?? {}) as JsonObject;
  const [values, setValues] = useState(() => initial(form));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [run, setRun] = useState<Run | null>(null);
  const [done, setDone] = useState(task.status !== "open");
  const [elsewhere, setElsewhere] = useState(false);

  const watch = run && !TERMINAL.includes(run.status) ? 1000 : null;
  useInterval(() => {
    if (!run) return;
    get<Run>(`/automations/${encodeURIComponent(run.automation_id)}/runs/${encodeURIComponent(run.id)}`).then(setRun, () => undefined);
  }, watch);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await post<Run>(`/tasks/${encodeURIComponent(task.id)}/complete`, { output: output(form, values) });
      setRun(answer);
      setDone(true);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.status === 409) {
        setDone(true);
        setElsewhere(true);
      }
    } finally {
      setBusy(false);
    }
  };

  const titleId = `task-${task.id}`;
  return (
    <form className="card task" onSubmit={submit} aria-labelledby={titleId}>
      <div className="card-head">
        <h2 id={titleId}>{task.title || "Untitled task"}</h2>
        <span>
          <StatusBadge status={run || elsewhere ? "completed" : task.status} /> {task.dry_run && <DryRunBadge />}
        </span>
      </div>
      <p className="muted small">
        {task.assignee && <>Assignee <code>{task.assignee}</code> · </>}
        {task.queue && <>Queue <code>{task.queue}</code> · </>}
        Created <Time at={task.created_at} />
        {task.due_at && <> · Due <Time at={task.due_at} /></>} ·{" "}
        <Link to={`/automations/${task.automation_id}`}>Automation and runs</Link>
      </p>
      {task.status === "open" && (
        <fieldset disabled={busy || (done && !error)}>
          <legend className="sr-only">Form of {task.title}</legend>
          {Object.keys(form).length === 0 && <p className="muted small">This task has no form fields: completing it resumes the run.</p>}
          {Object.entries(form).map(([name, type]) => {
            const id = `${task.id}-${name}`;
            if (type === "bool") {
              return (
                <div className="field check" key={name}>
                  <input id={id} type="checkbox" checked={Boolean(values[name])} onChange={(e) => setValues({ ...values, [name]: e.target.checked })} />
                  <label htmlFor={id}>{name}</label>
                </div>
              );
            }
            return (
              <div className="field" key={name}>
                <label htmlFor={id}>{name}</label>
                <input
                  id={id}
                  type={type === "number" ? "number" : "text"}
                  placeholder={type === "datetime" ? "2026-01-31T12:00:00Z" : type === "duration" ? "48h" : undefined}
                  value={String(values[name] ?? "")}
                  onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                />
                <span className="hint">{String(type)}</span>
              </div>
            );
          })}
          <button type="submit">{busy ? "Completing…" : "Complete"}</button>
        </fieldset>
      )}
      {error ? (
        <p className="error" role="alert">
          {error instanceof ApiError && error.status === 409
            ? `Conflict (409): ${error.message}. This task was already completed; nothing was changed.`
            : describeError(error)}
        </p>
      ) : null}
      {run && (
        <p className="notice" role="status">
          Task completed. Its run is <StatusBadge status={run.status} />
          {TERMINAL.includes(run.status) ? "" : " (watching…)"}{" "}
          <Link to={`/automations/${run.automation_id}`}>See the run</Link>
        </p>
      )}
    </form>
  );
}
