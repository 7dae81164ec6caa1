// A typed form per action: each param of the action's schema as an input, and back.
//
// Values in the definition are JSON (literals, or `{{ expr }}` strings for expressions);
// the form shows them as text. `toInput` and `fromInput` are inverse for every value the
// canonical JSON printer writes, which is what the round-trip tests check.

import { ActionSchema, Json, JsonObject, ParamSchema } from "./types";

/** What kind of input a param type gets. */
export type InputKind = "text" | "textarea" | "number" | "bool" | "choice" | "json" | "form" | "duration";

export function inputKind(param: ParamSchema): InputKind {
  switch (param.type) {
    case "bool": return "bool";
    case "number": return "number";
    case "choice": return "choice";
    case "duration": return "duration";
    case "fields":
    case "map": return "json";
    case "form": return "form";
    case "string": return param.name === "body" || param.name === "message" || param.name === "description" ? "textarea" : "text";
    default: return "text";
  }
}

const TEMPLATE = /^\{\{\s*([\s\S]*?)\s*\}\}$/;

/** The text an input shows for a value of the param. */
export function toInput(param: ParamSchema, value: Json | undefined): string {
  if (value === undefined) return "";
  switch (inputKind(param)) {
    case "duration": {
      // A literal duration is the expression `{{ 48h }}`; the input shows `48h`.
      if (typeof value === "string") {
        const m = TEMPLATE.exec(value);
        if (m && /^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(m[1])) return m[1];
        return value;
      }
      return JSON.stringify(value);
    }
    case "json":
    case "form":
      return typeof value === "string" ? value : JSON.stringify(value, null, 2);
    default:
      return typeof value === "string" ? value : JSON.stringify(value);
  }
}

/** The value an input's text stands for (undefined: the param is left out). */
export function fromInput(param: ParamSchema, text: string): Json | undefined {
  if (text === "") return undefined;
  switch (inputKind(param)) {
    case "number": {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n) ? n : text;
    }
    case "bool":
      return text === "true" ? true : text === "false" ? false : text;
    case "duration":
      return /^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(text.trim()) ? `{{ ${text.trim()} }}` : text;
    case "json":
    case "form":
      try {
        return JSON.parse(text) as Json;
      } catch {
        return text;
      }
    default:
      if (param.type === "any") return anyValue(text);
      if (param.type === "recipients" && text.trim().startsWith("[")) return anyValue(text);
      return text;
  }
}

/** `any` params (update_field's value): JSON literals as such, other text as a string. */
function anyValue(text: string): Json {
  const t = text.trim();
  if (t === "true" || t === "false" || t === "null" || /^-?\d+(\.\d+)?$/.test(t) || t.startsWith("[") || t.startsWith("{")) {
    try {
      return JSON.parse(t) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

/** Sets or removes one param, keeping the others in their order. */
export function setParam(params: JsonObject | undefined, name: string, value: Json | undefined): JsonObject {
  const out: JsonObject = { ...(params ?? {}) };
  if (value === undefined) delete out[name];
  else out[name] = value;
  return out;
}

/** Params present in the step that its action's schema does not list (kept, shown raw). */
export function extraParams(action: ActionSchema | undefined, params: JsonObject | undefined): string[] {
  const known = new Set(action?.params.map((p) => p.name) ?? []);
  return Object.keys(params ?? {}).filter((k) => !known.has(k));
}

/** The form fields of a human task (`{"approved": "bool"}`) as rows, and back. */
export type FormRow = { name: string; type: string };

export const FORM_TYPES = ["bool", "string", "number", "datetime", "duration"];

export function formRows(form: Json | undefined): FormRow[] {
  if (!form || typeof form !== "object" || Array.isArray(form)) return [];
  return Object.entries(form).map(([name, type]) => ({ name, type: String(type) }));
}

export function rowsToForm(rows: FormRow[]): JsonObject {
  const out: JsonObject = {};
  for (const row of rows) if (row.name.trim() !== "") out[row.name.trim()] = row.type;
  return out;
}
