import { Fragment, useEffect, useState } from "react";
import { get, post } from "../api";
import { ErrorBox, Loading, MoreButton, Section, StatusBadge, Time, DryRunBadge, duration, usePaged, useInterval } from "../components/common";
import { BacktestPanel } from "../components/Backtest";
import { RunView } from "../components/RunView";
import { conditionText } from "../model/definition";
import { Link, navigate } from "../router";
import { Automation, Run, Version } from "../types";

const RUN_STATUSES = ["queued", "running", "waiting", "completed", "failed", "cancelled"];

/** An automation's versions and run history, with each run's steps. */
export function Detail({ id }: { id: string }) {
  const [automation, setAutomation] = useState<Automation | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => get<Automation>(`/automations/${encodeURIComponent(id)}`).then(setAutomation, setError);
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  if (error) return <ErrorBox error={error} retry={() => { setError(null); void load(); }} />;
  if (!automation) return <Loading what="the automation" />;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>{automation.name}</h1>
          <p className="muted">
            <code>{automation.trigger?.event}</code> · <StatusBadge status={automation.status} /> · {automation.environment} · version{" "}
            {automation.version}
          </p>
          {automation.description && <p>{automation.description}</p>}
        </div>
        <div className="toolbar inline">
          {automation.environment === "live" && automation.status !== "archived" && <CopyToSandbox id={id} />}
          <Link to={`/automations/${id}/edit`} className="button">
            Edit
          </Link>
        </div>
      </div>
      <RunHistory automation={automation} />
      <BacktestPanel automation={automation} />
      <Versions id={id} />
    </>
  );
}

/** Copies a live automation to the sandbox (the copy shadows it) and opens the copy. */
function CopyToSandbox({ id }: { id: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const copy = async () => {
    setBusy(true);
    setError(null);
    try {
      const made = await post<Automation>(`/automations/${encodeURIComponent(id)}/sandbox-copy`);
      navigate(`/automations/${made.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="secondary" onClick={() => void copy()} disabled={busy}>
        {busy ? "Copying…" : "Copy to sandbox"}
      </button>
      <ErrorBox error={error} />
    </>
  );
}

export function RunHistory({ automation, dryRunOnly = false, title = "Run history" }: { automation: Automation; dryRunOnly?: boolean; title?: string }) {
  const [status, setStatus] = useState("");
  const [dryRun, setDryRun] = useState(dryRunOnly ? "true" : "");
  const [open, setOpen] = useState<string | null>(null);
  const runs = usePaged<Run>(`/automations/${encodeURIComponent(automation.id)}/runs`, { status, dry_run: dryRun });
  useInterval(() => void runs.reload(true), 3000);
  const condition = conditionText(automation.definition?.trigger?.conditions);
  const label = dryRunOnly ? `${automation.name} runs` : title;

  return (
    <Section
      title={title}
      actions={
        <div className="toolbar inline">
          <label>
            <span>Run status</span>
            <select value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">All</option>
              {RUN_STATUSES.map((s) => (
                <option key={s} value={s}>{s}</option>
              ))}
            </select>
          </label>
          {!dryRunOnly && (
            <label>
              <span>Mode</span>
              <select value={dryRun} onChange={(e) => setDryRun(e.target.value)}>
                <option value="">Live and dry runs</option>
                <option value="false">Live runs</option>
                <option value="true">Dry runs</option>
              </select>
            </label>
          )}
          <button type="button" className="secondary small" onClick={() => void runs.reload()}>
            Refresh
          </button>
        </div>
      }
    >
      <ErrorBox error={runs.error} retry={() => void runs.reload()} />
      {runs.loading && runs.items.length === 0 ? (
        <Loading what="runs" />
      ) : runs.items.length === 0 ? (
        <p className="muted empty">No runs yet{status ? ` with status ${status}` : ""}.</p>
      ) : (
        <div className="table-wrap">
          <table className="list runs" aria-label={label}>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Steps</th>
                <th scope="col">Record</th>
                <th scope="col"><span className="sr-only">Details</span></th>
              </tr>
            </thead>
            <tbody>
              {runs.items.map((run) => (
                <Fragment key={run.id}>
                  <tr className="run-row">
                    <td data-label="Status">
                      <StatusBadge status={run.status} /> {run.dry_run && <DryRunBadge />}
                    </td>
                    <td data-label="Started"><Time at={run.started_at ?? run.created_at} /></td>
                    <td data-label="Duration">{duration(run.duration_ms)}</td>
                    <td data-label="Steps">{run.steps.length === 1 ? "1 step" : `${run.steps.length} steps`}</td>
                    <td data-label="Record">{run.record ? <code className="small">{run.record.object}/{run.record.id}</code> : "—"}</td>
                    <td>
                      <button type="button" className="secondary small" aria-expanded={open === run.id} onClick={() => setOpen(open === run.id ? null : run.id)}>
                        {open === run.id ? "Hide steps" : "Show steps"}
                      </button>
                    </td>
                  </tr>
                  {open === run.id && (
                    <tr className="run-detail">
                      <td colSpan={6}>
                        <RunView run={run} condition={condition} definition={run.version === automation.version ? automation.definition : undefined} onChange={(next) => runs.setItems((items) => items.map((r) => (r.id === next.id ? next : r)))} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton hasMore={runs.hasMore} loading={runs.loading} onClick={runs.loadMore} />
    </Section>
  );
}

function Versions({ id }: { id: string }) {
  const versions = usePaged<Version>(`/automations/${encodeURIComponent(id)}/versions`, {}, 10);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <Section title="Versions">
      <ErrorBox error={versions.error} retry={() => void versions.reload()} />
      {versions.loading && versions.items.length === 0 && <Loading what="versions" />}
      <ul className="versions">
        {versions.items.map((v) => (
          <li key={v.version}>
            <button type="button" className="link" aria-expanded={open === v.version} onClick={() => setOpen(open === v.version ? null : v.version)}>
              Version {v.version}
            </button>{" "}
            <Time at={v.created_at} /> · {v.environment}
            {open === v.version && <pre className="json">{JSON.stringify(v.definition, null, 2)}</pre>}
          </li>
        ))}
      </ul>
      <MoreButton hasMore={versions.hasMore} loading={versions.loading} onClick={versions.loadMore} />
    </Section>
  );
}
