import { useEffect, useState } from "react";
import { ApiError, Page, describeError, get, post } from "../api";
import { ErrorBox, Loading, MoreButton, Section, StatusBadge, usePaged } from "../components/common";
import { ExplanationView } from "../components/Explanation";
import { RunView } from "../components/RunView";
import { CompareButton, ShadowDiffView, useShadowDiff } from "../components/ShadowDiff";
import { JsonObject } from "../model/types";
import { Link } from "../router";
import { eventObject } from "../schema";
import { Automation, TestReport } from "../types";
import { RunHistory } from "./Detail";

/** The Configuration Sandbox: the switch, sandbox automations with their dry runs, Promote, Test. */
export function SandboxPage() {
  const sandbox = usePaged<Automation>("/automations", { environment: "sandbox" });
  const [promoted, setPromoted] = useState<Automation | null>(null);
  return (
    <>
      <div className="page-head">
        <h1>Sandbox</h1>
      </div>
      <p className="muted">
        While the sandbox is on, active sandbox automations receive the same live events as live ones and run in dry-run: their effects are
        recorded on the run, never applied.
      </p>
      <SandboxSwitch />
      {promoted && (
        <p className="notice" role="status">
          Promoted: <Link to={`/automations/${promoted.id}`}>{promoted.name}</Link> is live (version {promoted.version}, {promoted.status}).
        </p>
      )}
      <Section title="Sandbox automations">
        <ErrorBox error={sandbox.error} retry={() => void sandbox.reload()} />
        {sandbox.loading && sandbox.items.length === 0 ? (
          <Loading what="sandbox automations" />
        ) : sandbox.items.length === 0 ? (
          <p className="muted empty">
            No sandbox automations. Create one with <em>Environment: Sandbox</em> in <Link to="/automations/new">New Automation</Link>.
          </p>
        ) : (
          <ul className="sandbox-list">
            {sandbox.items.map((a) => (
              <li key={a.id}>
                <SandboxAutomation automation={a} onPromoted={(live) => { setPromoted(live); void sandbox.reload(); }} />
              </li>
            ))}
          </ul>
        )}
        <MoreButton hasMore={sandbox.hasMore} loading={sandbox.loading} onClick={sandbox.loadMore} />
      </Section>
      <TestPanel />
    </>
  );
}

function SandboxSwitch() {
  const [active, setActive] = useState<boolean | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    get<{ active: boolean }>("/sandbox").then((s) => setActive(s.active), setError);
  }, []);
  // The switch moves at once; the text says what the server has confirmed.
  const [pending, setPending] = useState<boolean | null>(null);
  const toggle = async () => {
    const want = !active;
    setBusy(true);
    setError(null);
    setPending(want);
    try {
      const s = await post<{ active: boolean }>(want ? "/sandbox/activate" : "/sandbox/deactivate");
      setActive(s.active);
    } catch (e) {
      setError(e);
    } finally {
      setPending(null);
      setBusy(false);
    }
  };
  return (
    <div className="card switch-card">
      {active === null && !error ? (
        <Loading what="the sandbox state" />
      ) : (
        <label className="switch">
          <input type="checkbox" role="switch" checked={pending ?? !!active} disabled={active === null} onChange={() => !busy && void toggle()} aria-describedby="sandbox-state" />
          <span className="track" aria-hidden="true" />
          <span>Sandbox</span>
        </label>
      )}
      <span id="sandbox-state" className={active ? "on" : "off"}>
        {pending !== null
          ? pending
            ? "Turning on…"
            : "Turning off…"
          : active
            ? "On: sandbox automations run in dry-run on live events."
            : active === false
              ? "Off: sandbox automations do not run."
              : ""}
      </span>
      <ErrorBox error={error} />
    </div>
  );
}

function SandboxAutomation({ automation, onPromoted }: { automation: Automation; onPromoted: (live: Automation) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const shadow = useShadowDiff(automation.id);
  const promote = async () => {
    setBusy(true);
    setError(null);
    try {
      onPromoted(await post<Automation>(`/automations/${encodeURIComponent(automation.id)}/promote`));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="sandbox-automation">
      <div className="card-head">
        <h3>
          <Link to={`/automations/${automation.id}`}>{automation.name}</Link> <StatusBadge status={automation.status} />{" "}
          <code className="small">{automation.trigger?.event}</code>
        </h3>
        <div className="toolbar inline">
          {automation.shadows_id && <CompareButton name={automation.name} shadow={shadow} />}
          <button type="button" onClick={() => void promote()} disabled={busy} aria-label={`Promote ${automation.name}`}>
            {busy ? "Promoting…" : "Promote"}
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
      {automation.shadows_id ? (
        <ShadowDiffView name={automation.name} shadow={shadow} />
      ) : (
        <p className="muted small">Shadows no live automation yet: Promote makes one (or copy a live automation to the sandbox from its page).</p>
      )}
      <RunHistory automation={automation} dryRunOnly title={`Dry runs of ${automation.name}`} />
    </div>
  );
}

/** Runs POST /automations/{id}/test on a chosen record (or one written here) and shows the run. */
function TestPanel() {
  const [automations, setAutomations] = useState<Automation[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [automationId, setAutomationId] = useState("");
  const [records, setRecords] = useState<JsonObject[] | null>(null);
  const [recordId, setRecordId] = useState("");
  const [custom, setCustom] = useState("{}");
  const [report, setReport] = useState<TestReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get<Page<Automation>>("/automations?limit=200").then((p) => setAutomations(p.items.filter((a) => a.status !== "archived")), setListError);
  }, []);
  const automation = automations?.find((a) => a.id === automationId);
  const object = automation ? eventObject(automation.trigger.event) : null;

  useEffect(() => {
    setRecords(null);
    setRecordId("");
    if (!object) return;
    get<Page<JsonObject>>(`/records/${encodeURIComponent(object)}?limit=50`).then((p) => setRecords(p.items), () => setRecords([]));
  }, [object]);

  const run = async () => {
    if (!automation) return;
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      let record: JsonObject;
      if (recordId) {
        const { id: _i, object: _o, created_at: _c, updated_at: _u, ...fields } = records?.find((r) => r.id === recordId) ?? {};
        record = { id: recordId, ...fields };
      } else {
        record = JSON.parse(custom || "{}");
      }
      setReport(await post<TestReport>(`/automations/${encodeURIComponent(automation.id)}/test`, { record }));
    } catch (e) {
      setError(e instanceof SyntaxError ? new ApiError(0, "bad_json", `The record is not valid JSON: ${e.message}`) : e);
    } finally {
      setBusy(false);
    }
  };

  const label = (r: JsonObject) => String(r.name ?? r.subject ?? r.email ?? r.title ?? "");
  return (
    <Section title="Test">
      <p className="muted">A dry run of one automation on a record: nothing is written or sent. The answer says why the condition matched or not.</p>
      <ErrorBox error={listError} />
      <div className="grid2">
        <div className="field">
          <label htmlFor="test-automation">Automation to test</label>
          <select id="test-automation" value={automationId} onChange={(e) => setAutomationId(e.target.value)}>
            <option value="">Choose…</option>
            {(automations ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} ({a.environment}, {a.trigger.event})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="test-record">Record</label>
          <select id="test-record" value={recordId} onChange={(e) => setRecordId(e.target.value)} disabled={!object}>
            <option value="">{object ? "A record written below" : "Choose an automation first"}</option>
            {(records ?? []).map((r) => (
              <option key={String(r.id)} value={String(r.id)}>
                {String(r.id)} {label(r)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {!recordId && (
        <div className="field">
          <label htmlFor="test-json">Record fields (JSON)</label>
          <textarea id="test-json" className="mono" rows={3} value={custom} onChange={(e) => setCustom(e.target.value)} />
        </div>
      )}
      <button type="button" onClick={() => void run()} disabled={!automation || busy}>
        {busy ? "Running…" : "Run test"}
      </button>
      {error ? <p className="error" role="alert">{describeError(error)}</p> : null}
      {report && (
        <div className="test-report" aria-label="Test result">
          <p>
            <strong>{report.matched ? "Matched" : "Did not match"}</strong>
          </p>
          <ExplanationView value={report.explanation} />
          {report.run && <RunView run={report.run} />}
        </div>
      )}
    </Section>
  );
}
