// The typed form of one step: every param of its action from the schema's catalog, each
// labelled with the param's name, typed input, picklists and required marks; human tasks
// edit their form fields; plugin steps choose among the workspace's plugins.

import { useId } from "react";
import { ActionStep, Diagnostic, IfStep, Json, ParamSchema, Schema, Step, isIf } from "../model/types";
import { FORM_TYPES, extraParams, formRows, fromInput, inputKind, rowsToForm, setParam, toInput } from "../model/params";
import { under } from "../model/validation";
import { useCatalog } from "../schema";
import { DiagnosticList } from "./CodeField";

export function StepForm({
  step,
  pointer,
  triggerObject,
  diagnostics,
  onChange,
}: {
  step: Step;
  pointer: string;
  triggerObject: string | null;
  diagnostics: Diagnostic[];
  onChange: (step: Step) => void;
}) {
  const mine = under(diagnostics, pointer);
  if (isIf(step)) return <IfForm step={step} pointer={pointer} diagnostics={mine} onChange={onChange} />;
  return <ActionForm step={step} pointer={pointer} triggerObject={triggerObject} diagnostics={mine} onChange={onChange} />;
}

function IfForm({ step, pointer, diagnostics, onChange }: { step: IfStep; pointer: string; diagnostics: Diagnostic[]; onChange: (s: Step) => void }) {
  const id = useId();
  return (
    <div className="step-form">
      <div className="field">
        <label htmlFor={id}>Branch rule</label>
        <input id={id} className="mono" value={step.condition} onChange={(e) => onChange({ ...step, condition: e.target.value })} />
      </div>
      <p className="hint">
        {step.then.length} step(s) in <em>then</em>, {step.else?.length ?? 0} in <em>else</em>. Connect nodes to the <em>then</em> or{" "}
        <em>else</em> handle in the builder to move steps into a branch.
      </p>
      <DiagnosticList items={under(diagnostics, pointer)} label="Branch diagnostics" />
    </div>
  );
}

function ActionForm({
  step,
  pointer,
  triggerObject,
  diagnostics,
  onChange,
}: {
  step: ActionStep;
  pointer: string;
  triggerObject: string | null;
  diagnostics: Diagnostic[];
  onChange: (s: Step) => void;
}) {
  const { schema } = useCatalog();
  const action = schema.actions.find((a) => a.name === step.type);
  const uid = useId();
  const params = step.params ?? {};
  const placed = new Set<Diagnostic>();
  const forParam = (name: string) => {
    const list = under(diagnostics, `${pointer}/params/${name}`);
    list.forEach((d) => placed.add(d));
    return list;
  };
  const fields = (action?.params ?? []).map((param) => (
    <ParamField
      key={param.name}
      id={`${uid}-${param.name}`}
      param={param}
      value={params[param.name]}
      triggerObject={triggerObject}
      suggestions={param.name === "value" ? picklistOf(schema, triggerObject, params.field) : undefined}
      diagnostics={forParam(param.name)}
      onChange={(value) => onChange({ ...step, params: setParam(step.params, param.name, value) })}
    />
  ));
  const extra = extraParams(action, params);
  const rest = diagnostics.filter((d) => !placed.has(d));

  return (
    <div className="step-form">
      {!action && (
        <p className="error" role="alert">
          Unknown action type <code>{step.type}</code>.
        </p>
      )}
      {action?.description && <p className="hint">{action.description}</p>}
      <div className="grid2">
        <div className="field">
          <label htmlFor={`${uid}-id`}>Step id</label>
          <input
            id={`${uid}-id`}
            className="mono"
            value={step.id ?? ""}
            placeholder="optional, e.g. approval"
            onChange={(e) => {
              const { id: _old, ...rest } = step;
              onChange(e.target.value ? { id: e.target.value, ...rest } : rest);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-guard`}>Run only when</label>
          <input
            id={`${uid}-guard`}
            className="mono"
            value={step.condition ?? ""}
            placeholder="optional condition"
            onChange={(e) => {
              const { condition: _old, ...rest } = step;
              onChange(e.target.value ? { ...rest, condition: e.target.value } : rest);
            }}
          />
        </div>
      </div>
      {action?.one_of?.filter((g) => g.length).map((group) => (
        <p key={group.join()} className="hint">
          Give at least one of: {group.map((g) => <code key={g}>{g}</code>).reduce<React.ReactNode[]>((acc, el, i) => (i ? [...acc, ", ", el] : [el]), [])}.
        </p>
      ))}
      <div className="params">{fields}</div>
      {extra.length > 0 && (
        <p className="hint">
          Other params kept as they are: {extra.map((e) => <code key={e}>{e}</code>)}
        </p>
      )}
      <DiagnosticList items={rest} label="Step diagnostics" />
    </div>
  );
}

/** The values of a picklist field of the trigger's object (update_field's `value`). */
function picklistOf(schema: Schema, object: string | null, field: Json | undefined): string[] | undefined {
  if (!object || typeof field !== "string") return undefined;
  return schema.objects[object]?.fields[field]?.values;
}

function ParamField({
  id,
  param,
  value,
  triggerObject,
  suggestions,
  diagnostics,
  onChange,
}: {
  id: string;
  param: ParamSchema;
  value: Json | undefined;
  triggerObject: string | null;
  suggestions?: string[];
  diagnostics: Diagnostic[];
  onChange: (value: Json | undefined) => void;
}) {
  const { schema, plugins } = useCatalog();
  const kind = inputKind(param);
  const text = toInput(param, value);
  const set = (t: string) => onChange(fromInput(param, t));
  const describedBy = `${id}-help`;
  const common = { id, "aria-describedby": describedBy, "aria-required": param.required || undefined, "aria-invalid": diagnostics.some((d) => d.severity === "error") || undefined };

  let input: React.ReactNode;
  if (param.name === "plugin" && param.type === "string") {
    input = (
      <select {...common} value={text} onChange={(e) => set(e.target.value)}>
        <option value="">Choose a plugin…</option>
        {plugins.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name}
          </option>
        ))}
        {text && !plugins.some((p) => p.name === text) && <option value={text}>{text} (not installed)</option>}
      </select>
    );
  } else if (kind === "choice") {
    input = (
      <select {...common} value={text} onChange={(e) => set(e.target.value)}>
        <option value="">{param.required ? "Choose…" : "(none)"}</option>
        {(param.choices ?? []).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
        {text && !(param.choices ?? []).includes(text) && <option value={text}>{text}</option>}
      </select>
    );
  } else if (kind === "bool") {
    input = (
      <select {...common} value={text} onChange={(e) => set(e.target.value)}>
        <option value="">(not set)</option>
        <option value="true">true</option>
        <option value="false">false</option>
        {text && text !== "true" && text !== "false" && <option value={text}>{text}</option>}
      </select>
    );
  } else if (kind === "form") {
    input = <FormFields id={id} value={value} onChange={onChange} />;
  } else if (kind === "json" || kind === "textarea" || (param.type === "any" && typeof value === "object" && value !== null)) {
    input = <textarea {...common} rows={kind === "json" ? 3 : 2} className={kind === "json" ? "mono" : undefined} value={text} onChange={(e) => set(e.target.value)} />;
  } else {
    const list = param.type === "field_name" ? `${id}-fields` : param.type === "object_name" ? `${id}-objects` : suggestions ? `${id}-values` : undefined;
    input = (
      <>
        <input {...common} list={list} value={text} inputMode={kind === "number" ? "decimal" : undefined} onChange={(e) => set(e.target.value)} />
        {param.type === "field_name" && (
          <datalist id={`${id}-fields`}>
            {Object.keys(schema.objects[triggerObject ?? ""]?.fields ?? {}).map((f) => (
              <option key={f} value={f} />
            ))}
          </datalist>
        )}
        {suggestions && (
          <datalist id={`${id}-values`}>
            {suggestions.map((v) => (
              <option key={v} value={v} />
            ))}
          </datalist>
        )}
        {param.type === "object_name" && (
          <datalist id={`${id}-objects`}>
            {Object.keys(schema.objects).map((o) => (
              <option key={o} value={o} />
            ))}
          </datalist>
        )}
      </>
    );
  }

  return (
    <div className={`field param kind-${kind}`}>
      <div className="label-row">
        {kind === "form" ? <span className="label" id={`${id}-label`}>{param.name}</span> : <label htmlFor={id}>{param.name}</label>}
        {param.required && (
          <span className="required" title="required">
            *<span className="sr-only"> (required)</span>
          </span>
        )}
        <span className="type">{param.type === "choice" ? "choice" : param.type.replace("_", " ")}</span>
      </div>
      {input}
      <p id={describedBy} className="hint">
        {param.description ?? (param.type === "choice" ? `One of: ${(param.choices ?? []).join(", ")}.` : typeHint(param.type))}
      </p>
      <DiagnosticList items={diagnostics} label={`${param.name} diagnostics`} />
    </div>
  );
}

function typeHint(type: string): string {
  switch (type) {
    case "duration": return "A duration such as 30m, 48h or 3d.";
    case "datetime": return "An RFC 3339 time or an expression such as {{ now() + 3d }}.";
    case "fields": return 'A JSON object of field values, e.g. {"status": "open"}.';
    case "map": return "A JSON object.";
    case "recipients": return "An address, {{ owner.email }}, or a JSON list of them.";
    case "any": return "A value: text, a number, true/false, or {{ expression }}.";
    case "field_name": return "A field of the triggering record.";
    case "object_name": return "An object of the schema.";
    default: return "Text; {{ expression }} inserts record values.";
  }
}

/** A human task's form: one row per field, with its name and type. */
function FormFields({ id, value, onChange }: { id: string; value: Json | undefined; onChange: (v: Json | undefined) => void }) {
  const rows = formRows(value);
  const set = (next: { name: string; type: string }[]) => onChange(rowsToForm(next));
  return (
    <fieldset className="form-fields" aria-labelledby={`${id}-label`}>
      {rows.length === 0 && <p className="muted small">No form fields yet.</p>}
      {rows.map((row, i) => (
        <div className="form-row" key={i}>
          <input
            aria-label={`Form field ${i + 1}`}
            value={row.name}
            onChange={(e) => set(rows.map((r, j) => (j === i ? { ...r, name: e.target.value } : r)))}
          />
          <select aria-label={`Type of form field ${i + 1}`} value={row.type} onChange={(e) => set(rows.map((r, j) => (j === i ? { ...r, type: e.target.value } : r)))}>
            {FORM_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <button type="button" className="secondary small" aria-label={`Remove form field ${row.name || i + 1}`} onClick={() => set(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="secondary small" onClick={() => set([...rows, { name: `field_${rows.length + 1}`, type: "string" }])}>
        Add form field
      </button>
    </fieldset>
  );
}
