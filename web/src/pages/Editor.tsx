// New Automation / edit: one definition shown three ways (form, builder, DSL), checked live
// by POST /automations/validate, saved with If-Match so a concurrent change is a visible
// conflict, never an overwrite.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, describeError, post, request } from "../api";
import { AddAction } from "../components/AddAction";
import { Builder } from "../components/Builder";
import { CodeField, DiagnosticList } from "../components/CodeField";
import { ErrorBox, Loading, StatusBadge } from "../components/common";
import { DslEditor } from "../components/DslEditor";
import { StepList } from "../components/StepList";
import { TriggerPicker } from "../components/TriggerPicker";
import { appendStep, conditionText, conditionValue, emptyDefinition, newStep } from "../model/definition";
import { Definition, Diagnostic } from "../model/types";
import { ValidationBody, conditionRange, under, validationBody } from "../model/validation";
import { Link, navigate } from "../router";
import { eventObject } from "../schema";
import { Automation } from "../types";

type Tab = "form" | "builder" | "dsl";
const TABS: { id: Tab; label: string }[] = [
  { id: "form", label: "Form" },
  { id: "builder", label: "Builder" },
  { id: "dsl", label: "DSL" },
];
const STATUSES = ["draft", "active", "paused", "archived"];

function same(a: unknown, b: unknown) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The definition to store: the condition as typed (an equality map when it is one). */
function toStore(def: Definition, condition: string): Definition {
  const { conditions: _c, ...trigger } = def.trigger;
  const value = conditionValue(condition);
  return { ...def, trigger: value === undefined ? trigger : { ...trigger, conditions: value } };
}

/** The notice of a create, shown by the editor the route change mounts for the new id. */
let flash: { id: string; notice: string } | null = null;

interface Validation {
  body: ValidationBody;
  diagnostics: Diagnostic[];
}

export function Editor({ id: routeId }: { id: string | null }) {
  const [id, setId] = useState(routeId);
  const [def, setDefState] = useState<Definition | null>(routeId ? null : emptyDefinition());
  const [condition, setCondition] = useState("");
  const [saved, setSaved] = useState<Automation | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [tab, setTab] = useState<Tab>(() => (sessionStorage.getItem("automations.editorTab") as Tab) || "form");
  const [validation, setValidation] = useState<Validation | null>(null);
  const [checking, setChecking] = useState(false);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(() => (flash && flash.id === routeId ? flash.notice : null));
  const [saveError, setSaveError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [serverDiagnostics, setServerDiagnostics] = useState<Diagnostic[]>([]);
  const [warnings, setWarnings] = useState<Diagnostic[]>([]);

  // Unsaved edits are not lost to a closed tab or a reload without a question.
  const [baseline, setBaseline] = useState<string>(() => JSON.stringify(emptyDefinition()));
  const dirty = def !== null && touched && JSON.stringify(toStore(def, condition)) !== baseline;
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const load = useCallback(async (which: string) => {
    setLoadError(null);
    try {
      const { data } = await request<Automation>(`/automations/${encodeURIComponent(which)}`);
      setSaved(data);
      setDefState(data.definition);
      setCondition(conditionText(data.definition.trigger?.conditions));
      setBaseline(JSON.stringify(toStore(data.definition, conditionText(data.definition.trigger?.conditions))));
      setConflict(null);
    } catch (e) {
      setLoadError(e);
    }
  }, []);

  useEffect(() => {
    if (routeId) void load(routeId);
  }, [routeId, load]);

  useEffect(() => {
    sessionStorage.setItem("automations.editorTab", tab);
  }, [tab]);

  const setDef = useCallback((next: Definition) => {
    setTouched(true);
    setDefState(next);
    setCondition((text) => (same(conditionValue(text), next.trigger.conditions) ? text : conditionText(next.trigger.conditions)));
  }, []);

  const editCondition = (text: string) => {
    setTouched(true);
    setCondition(text);
    setDefState((d) => (d ? toStore(d, text) : d));
  };

  // Live diagnostics, debounced.
  const seq = useRef(0);
  useEffect(() => {
    if (!def || !touched) return;
    const handle = window.setTimeout(async () => {
      const mine = ++seq.current;
      const body = validationBody(def, condition);
      setChecking(true);
      try {
        const { data } = await request<{ diagnostics: Diagnostic[] }>("/automations/validate", {
          method: "POST",
          body: body.text,
          text: true,
          contentType: "application/json",
        });
        if (mine === seq.current) setValidation({ body, diagnostics: data.diagnostics });
      } catch (e) {
        if (mine === seq.current) setValidation({ body, diagnostics: e instanceof ApiError ? e.diagnostics : [] });
      } finally {
        if (mine === seq.current) setChecking(false);
      }
    }, 350);
    return () => window.clearTimeout(handle);
  }, [def, condition, touched]);

  if (loadError) return <ErrorBox error={loadError} retry={() => routeId && load(routeId)} />;
  if (!def) return <Loading what="the automation" />;

  const diagnostics = validation?.diagnostics ?? serverDiagnostics;
  const conditionLocated = diagnostics
    .filter((d) => d.pointer?.startsWith("/trigger/conditions"))
    .map((d) => ({ diagnostic: d, range: validation ? conditionRange(validation.body, d) : null }));
  const placed = (d: Diagnostic) =>
    d.pointer?.startsWith("/trigger") || d.pointer?.startsWith("/actions/") || d.pointer === "/name" || d.pointer === "/description";
  const general = diagnostics.filter((d) => !placed(d));
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warningCount = diagnostics.filter((d) => d.severity === "warning").length;
  const triggerObject = eventObject(def.trigger.event);
  const archived = saved?.status === "archived";

  const conditionEditor = (
    <CodeField
      label="Condition"
      value={condition}
      onChange={editCondition}
      located={conditionLocated}
      checking={checking}
      placeholder='e.g. priority == "critical" and account.tier in ["gold", "platinum"]'
      hint="Optional. Leave blank to run on every event."
    />
  );

  const save = async () => {
    setBusy(true);
    setSaveError(null);
    setNotice(null);
    setConflict(null);
    const body = toStore(def, condition);
    try {
      if (!id) {
        const { data } = await request<Automation>("/automations", { method: "POST", body: { ...body, status: body.status ?? "draft" } });
        setSaved(data);
        setId(data.id);
        setWarnings(data.warnings ?? []);
        flash = { id: data.id, notice: `Saved as ${data.status} (version ${data.version}).` };
        setNotice(flash.notice);
        navigate(`/automations/${data.id}/edit`, true);
      } else {
        const { data } = await request<Automation>(`/automations/${encodeURIComponent(id)}`, {
          method: "PUT",
          body: { ...body, status: saved?.status ?? body.status },
          headers: { "If-Match": `"${saved?.version}"` },
        });
        setSaved(data);
        setWarnings(data.warnings ?? []);
        setNotice(`Saved version ${data.version}.`);
      }
      setServerDiagnostics([]);
      setBaseline(JSON.stringify(body));
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setConflict(e.message);
      else setSaveError(e);
      if (e instanceof ApiError && e.diagnostics.length) {
        setServerDiagnostics(e.diagnostics);
        setValidation(null);
      }
    } finally {
      setBusy(false);
    }
  };

  const changeStatus = async (status: string) => {
    if (!id) {
      setDef({ ...def, status });
      return;
    }
    setBusy(true);
    setSaveError(null);
    setNotice(null);
    try {
      const data = await post<Automation>(`/automations/${encodeURIComponent(id)}/status`, { status });
      setSaved(data);
      setWarnings(data.warnings ?? []);
      setNotice(`Status is now ${data.status}.`);
    } catch (e) {
      setSaveError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="editor">
      <div className="page-head">
        <h1>{id ? `Edit ${saved?.name ?? "automation"}` : "New Automation"}</h1>
        {id && (
          <Link to={`/automations/${id}`} className="button secondary">
            Runs and versions
          </Link>
        )}
      </div>
      <section className="card editor-head" aria-label="Automation">
        <div className="grid2">
          <div className="field">
            <label htmlFor="automation-name">Name</label>
            <input id="automation-name" value={def.name} required aria-required onChange={(e) => setDef({ ...def, name: e.target.value })} />
            <DiagnosticList items={under(diagnostics, "/name")} label="Name diagnostics" />
          </div>
          <div className="field">
            <label htmlFor="automation-status">Status</label>
            <select
              id="automation-status"
              value={id ? saved?.status ?? "draft" : def.status ?? "draft"}
              disabled={busy}
              onChange={(e) => void changeStatus(e.target.value)}
            >
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s[0].toUpperCase() + s.slice(1)}
                </option>
              ))}
            </select>
            {id && saved && (
              <span className="small muted">
                Now <StatusBadge status={saved.status} />, version {saved.version}
              </span>
            )}
          </div>
        </div>
        <div className="grid2">
          <div className="field">
            <label htmlFor="automation-description">Description</label>
            <textarea
              id="automation-description"
              rows={2}
              value={def.description ?? ""}
              onChange={(e) => {
                const { description: _d, ...rest } = def;
                setDef(e.target.value ? { ...rest, description: e.target.value } : (rest as Definition));
              }}
            />
          </div>
          <div className="field">
            <label htmlFor="automation-environment">Environment</label>
            <select
              id="automation-environment"
              value={def.environment ?? "live"}
              disabled={!!id}
              onChange={(e) => {
                const { environment: _e, ...rest } = def;
                setDef(e.target.value === "sandbox" ? { ...rest, environment: "sandbox" } : (rest as Definition));
              }}
            >
              <option value="live">Live</option>
              <option value="sandbox">Sandbox (dry-run)</option>
            </select>
            {id && <span className="small muted">A sandbox automation goes live with Promote on the Sandbox page.</span>}
          </div>
        </div>
        <div className="save-row">
          <button type="button" onClick={() => void save()} disabled={busy || archived}>
            {busy ? "Saving…" : "Save"}
          </button>
          <span className={`summary ${errors ? "has-errors" : ""}`} aria-live="polite">
            {checking ? "Checking…" : validation ? (errors || warningCount ? `${errors} error(s), ${warningCount} warning(s)` : "No problems found") : ""}
          </span>
          {archived && <span className="muted">Archived automations are read-only.</span>}
        </div>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {conflict && (
          <div className="error conflict" role="alert">
            <strong>Conflict (409):</strong> {conflict}. Someone saved this automation after you opened it. Your edits are still here and
            were not saved.
            <button type="button" className="secondary small" onClick={() => id && void load(id)}>
              Load the latest version (discards your edits)
            </button>
          </div>
        )}
        {saveError ? (
          <div className="error" role="alert">
            {describeError(saveError)}
          </div>
        ) : null}
        <DiagnosticList items={warnings} label="Warnings" />
        <DiagnosticList items={general} label="Definition diagnostics" />
      </section>

      <div role="tablist" aria-label="Editor views" className="tabs">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            type="button"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
            onKeyDown={(e) => {
              const i = TABS.findIndex((x) => x.id === tab);
              if (e.key === "ArrowRight") setTab(TABS[(i + 1) % TABS.length].id);
              if (e.key === "ArrowLeft") setTab(TABS[(i + TABS.length - 1) % TABS.length].id);
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-label="Selected view" className="tabpanel">
        {tab === "form" && (
          <>
            <section className="card">
              <h2 id="trigger-title">Trigger</h2>
              <TriggerPicker value={def.trigger.event} onChange={(event) => setDef({ ...def, trigger: { ...def.trigger, event } })} />
              <DiagnosticList items={under(diagnostics, "/trigger/event")} label="Trigger diagnostics" />
              {conditionEditor}
            </section>
            <section className="card">
              <h2 id="actions-title">Actions</h2>
              <StepList def={def} setDef={setDef} diagnostics={diagnostics} triggerObject={triggerObject} />
              <AddAction
                onAdd={(type) => setDef(appendStep(def, newStep(type)))}
                extra={[{ value: "if", label: "if / else (branch)" }]}
              />
              <DiagnosticList items={under(diagnostics, "/actions", true)} label="Actions diagnostics" />
            </section>
          </>
        )}
        {tab === "builder" && (
          <Builder
            def={def}
            setDef={setDef}
            diagnostics={diagnostics}
            triggerObject={triggerObject}
            conditionEditor={conditionEditor}
            onAddCondition={() => editCondition(condition || "true")}
          />
        )}
        {tab === "dsl" && <DslEditor def={toStore(def, condition)} setDef={setDef} />}
      </div>
    </div>
  );
}
