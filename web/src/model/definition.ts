// Pure operations on a definition: step addresses, default ids, insert/move/delete, and the
// condition's text form. Every view (form, builder, DSL) edits the definition through these,
// so the three always show one definition.

import { Definition, IfStep, Json, JsonObject, Step, isIf } from "./types";

/** Where a list of steps lives: the root `actions`, or a branch of an `if` step. */
export type ListPath = (number | "then" | "else")[];

/** A step's address: the list it is in and its index there. */
export interface StepLoc {
  list: ListPath;
  index: number;
}

export function emptyDefinition(): Definition {
  return { name: "", status: "draft", trigger: { event: "" }, actions: [] };
}

/** The list at `path` (created on demand for an `else` branch when `create` is set). */
export function listAt(actions: Step[], path: ListPath, create = false): Step[] | undefined {
  let list: Step[] = actions;
  for (let i = 0; i < path.length; i += 2) {
    const step = list[path[i] as number];
    const branch = path[i + 1] as "then" | "else";
    if (!step || !isIf(step)) return undefined;
    if (branch === "else" && !step.else) {
      if (!create) return undefined;
      step.else = [];
    }
    list = branch === "then" ? step.then : (step.else as Step[]);
  }
  return list;
}

export function stepAt(actions: Step[], loc: StepLoc): Step | undefined {
  return listAt(actions, loc.list)?.[loc.index];
}

/**
 * Every step with its address and effective id: its own `id`, else `step_N` where N counts
 * steps in document order (the compiler's default).
 */
export function indexSteps(actions: Step[]): { id: string; loc: StepLoc; step: Step }[] {
  const out: { id: string; loc: StepLoc; step: Step }[] = [];
  let seen = 0;
  const walk = (list: Step[], path: ListPath) => {
    list.forEach((step, index) => {
      seen += 1;
      out.push({ id: step.id ?? `step_${seen}`, loc: { list: path, index }, step });
      if (isIf(step)) {
        walk(step.then, [...path, index, "then"]);
        if (step.else) walk(step.else, [...path, index, "else"]);
      }
    });
  };
  walk(actions, []);
  return out;
}

export function locate(actions: Step[], id: string): StepLoc | undefined {
  return indexSteps(actions).find((s) => s.id === id)?.loc;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** A copy of `def` with `fn` applied to a copy of its actions. */
function withActions(def: Definition, fn: (actions: Step[]) => void): Definition {
  const actions = clone(def.actions);
  fn(actions);
  return { ...def, actions };
}

export function insertStep(def: Definition, step: Step, list: ListPath, index: number): Definition {
  return withActions(def, (actions) => {
    const target = listAt(actions, list, true);
    if (!target) throw new Error("no such branch");
    target.splice(Math.max(0, Math.min(index, target.length)), 0, step);
  });
}

export function appendStep(def: Definition, step: Step): Definition {
  return insertStep(def, step, [], def.actions.length);
}

export function deleteStep(def: Definition, loc: StepLoc): Definition {
  return withActions(def, (actions) => {
    const list = listAt(actions, loc.list);
    if (!list) return;
    list.splice(loc.index, 1);
    dropEmptyElse(actions, loc.list);
  });
}

export function replaceStep(def: Definition, loc: StepLoc, step: Step): Definition {
  return withActions(def, (actions) => {
    const list = listAt(actions, loc.list);
    if (list && loc.index < list.length) list[loc.index] = step;
  });
}

/** An `else` emptied by an edit is left out, as the canonical form does. */
function dropEmptyElse(actions: Step[], path: ListPath) {
  if (path.length === 0 || path[path.length - 1] !== "else") return;
  const parent = stepAt(actions, { list: path.slice(0, -2), index: path[path.length - 2] as number });
  if (parent && isIf(parent) && parent.else && parent.else.length === 0) delete parent.else;
}

function sameOrInside(path: ListPath, loc: StepLoc): boolean {
  // `path` lies inside the step at `loc` when it starts with loc.list + [loc.index].
  const prefix = [...loc.list, loc.index];
  return prefix.every((seg, i) => path[i] === seg);
}

/**
 * Moves the step at `from` to position `index` of `list` (as seen before the move).
 * Moving an `if` into its own branches is refused (returns null).
 */
export function moveStep(def: Definition, from: StepLoc, list: ListPath, index: number): Definition | null {
  if (sameOrInside(list, from)) return null;
  const moved = stepAt(def.actions, from);
  if (!moved) return null;
  let target = index;
  // Removing `from` shifts later siblings of the same list and addresses through it.
  const adjusted = [...list];
  const fromDepth = from.list.length;
  const sharesList = from.list.every((seg, i) => list[i] === seg);
  if (sharesList && list.length === fromDepth) {
    if (from.index < index) target -= 1;
  } else if (sharesList && list.length > fromDepth && (list[fromDepth] as number) > from.index) {
    adjusted[fromDepth] = (list[fromDepth] as number) - 1;
  }
  const removed = deleteStepKeepingElse(def, from);
  return insertStep(removed, moved, adjusted, target);
}

function deleteStepKeepingElse(def: Definition, loc: StepLoc): Definition {
  return withActions(def, (actions) => {
    listAt(actions, loc.list)?.splice(loc.index, 1);
  });
}

export function newStep(type: string): Step {
  if (type === "if") return { type: "if", condition: "true", then: [] } as IfStep;
  if (type === "human_task") return { type, params: { title: "", form: {} } };
  if (type === "wait") return { type, params: { duration: "{{ 1h }}" } };
  if (type === "plugin") return { type, params: { plugin: "", input: {} } };
  return { type, params: {} };
}

// ---- Conditions ------------------------------------------------------------------------

/** The text form of a condition: an equality map becomes `a == "x" and b == 2`. */
export function conditionText(conditions: Definition["trigger"]["conditions"]): string {
  if (conditions === undefined || conditions === null) return "";
  if (typeof conditions === "string") return conditions;
  return Object.entries(conditions)
    .map(([field, value]) => `${field} == ${literalText(value)}`)
    .join(" and ");
}

function literalText(value: Json): string {
  if (typeof value === "string") return dslString(value);
  return JSON.stringify(value);
}

/** A DSL string literal: double quotes, backslash escapes. */
export function dslString(text: string): string {
  return JSON.stringify(text);
}

/**
 * The definition's form of a condition text: blank is no condition, a conjunction of
 * `field == literal` is the equality map (as the seed writes it), anything else the text.
 */
export function conditionValue(text: string): string | JsonObject | undefined {
  if (text.trim() === "") return undefined;
  return equalityMap(text) ?? text;
}

type Token = { kind: "path" | "eq" | "and" | "lit"; value?: Json; text?: string };

function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i += 1; continue; }
    if (text.startsWith("==", i)) { tokens.push({ kind: "eq" }); i += 2; continue; }
    if (c === '"' || c === "'") {
      const lit = readString(text, i);
      if (!lit) return null;
      tokens.push({ kind: "lit", value: lit.value });
      i = lit.end;
      continue;
    }
    const num = /^-?\d+(\.\d+)?(?![\w.])/.exec(text.slice(i));
    if (num) { tokens.push({ kind: "lit", value: Number(num[0]) }); i += num[0].length; continue; }
    const word = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i));
    if (!word) return null;
    const w = word[0];
    if (w === "and") tokens.push({ kind: "and" });
    else if (w === "true" || w === "false") tokens.push({ kind: "lit", value: w === "true" });
    else if (w === "null") tokens.push({ kind: "lit", value: null });
    else tokens.push({ kind: "path", text: w });
    i += w.length;
  }
  return tokens;
}

/** A quoted string without templates; null for anything the DSL would read otherwise. */
function readString(text: string, start: number): { value: string; end: number } | null {
  const quote = text[start];
  let out = "";
  for (let i = start + 1; i < text.length; i += 1) {
    const c = text[i];
    if (c === quote) return { value: out, end: i + 1 };
    if (c === "{" && text[i + 1] === "{") return null;
    if (c === "\\") {
      const next = text[i + 1];
      const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" };
      if (!(next in escapes)) return null;
      out += escapes[next];
      i += 1;
      continue;
    }
    out += c;
  }
  return null;
}

const KEYWORDS = new Set(["or", "not", "in", "contains", "starts_with", "ends_with", "matches", "is"]);

function equalityMap(text: string): JsonObject | null {
  const tokens = tokenize(text);
  if (!tokens || tokens.length === 0) return null;
  const out: JsonObject = {};
  for (let i = 0; i < tokens.length; i += 4) {
    const [path, eq, lit, sep] = tokens.slice(i, i + 4);
    if (!path || path.kind !== "path" || KEYWORDS.has(path.text as string)) return null;
    if (!eq || eq.kind !== "eq" || !lit || lit.kind !== "lit") return null;
    if (sep && sep.kind !== "and") return null;
    if (sep && i + 4 >= tokens.length) return null;
    const key = path.text as string;
    if (key in out) return null;
    out[key] = lit.value as Json;
  }
  return out;
}
