// The builder's graph as a function of the definition, and back.
//
// Nodes: the trigger, the condition (when there is one), and one node per step (if/else
// and human tasks included), keyed by the step's effective id. Edges carry the order: a
// step's `next` handle leads to the step after it in its list, an `if` node's `then` and
// `else` handles to the first step of each branch. Edits in the builder are edits of the
// definition (see `connect`), so the graph is always a tree the definition can hold.

import { conditionText } from "./definition";
import { indexSteps, moveStep, locate, ListPath, StepLoc } from "./definition";
import { Definition, IfStep, Json, Position, Step, isIf } from "./types";

export type Handle = "next" | "then" | "else";

export interface TriggerData { kind: "trigger"; event: string; [key: string]: unknown }
export interface ConditionData { kind: "condition"; conditions: Definition["trigger"]["conditions"]; text: string; [key: string]: unknown }
export interface StepData {
  kind: "step";
  /** The step without its branches. */
  step: Step;
  /** An `if` step that had an explicit, empty `else`. */
  emptyElse?: boolean;
  title: string;
  summary: string;
  [key: string]: unknown;
}
export type NodeData = TriggerData | ConditionData | StepData;

export interface GraphNode {
  id: string;
  type: "trigger" | "condition" | "action" | "branch" | "task";
  position: Position;
  data: NodeData;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: Handle;
  label?: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const TRIGGER = "trigger";
export const CONDITION = "condition";
const STEP_PREFIX = "step:";

export function stepNodeId(stepId: string): string {
  return STEP_PREFIX + stepId;
}

export function stepIdOf(nodeId: string): string | null {
  return nodeId.startsWith(STEP_PREFIX) ? nodeId.slice(STEP_PREFIX.length) : null;
}

/** The stored layout: `{"trigger": {x, y}, "condition": {x, y}, "steps": {"<id>": {x, y}}}`. */
export interface StoredLayout {
  trigger?: Position;
  condition?: Position;
  steps?: Record<string, Position>;
}

function isPosition(value: unknown): value is Position {
  const p = value as Position;
  return !!p && typeof p === "object" && Number.isFinite(p.x) && Number.isFinite(p.y);
}

export function readLayout(layout: Definition["layout"]): StoredLayout {
  const l = (layout ?? {}) as Record<string, unknown>;
  const steps: Record<string, Position> = {};
  if (l.steps && typeof l.steps === "object") {
    for (const [id, p] of Object.entries(l.steps as Record<string, unknown>)) if (isPosition(p)) steps[id] = p;
  }
  return {
    trigger: isPosition(l.trigger) ? l.trigger : undefined,
    condition: isPosition(l.condition) ? l.condition : undefined,
    steps,
  };
}

/** The layout with one node's position changed (rounded: layouts are stored in git too). */
export function withPosition(def: Definition, nodeId: string, position: Position): Definition {
  const layout = readLayout(def.layout);
  const p = { x: Math.round(position.x), y: Math.round(position.y) };
  const stepId = stepIdOf(nodeId);
  if (nodeId === TRIGGER) layout.trigger = p;
  else if (nodeId === CONDITION) layout.condition = p;
  else if (stepId) layout.steps = { ...layout.steps, [stepId]: p };
  const out: Record<string, Json> = {};
  if (layout.trigger) out.trigger = layout.trigger as unknown as Json;
  if (layout.condition) out.condition = layout.condition as unknown as Json;
  if (layout.steps && Object.keys(layout.steps).length) out.steps = layout.steps as unknown as Json;
  return { ...def, layout: out };
}

const X_GAP = 280;
const Y_GAP = 120;

export function stepTitle(step: Step): string {
  if (isIf(step)) return "If / else";
  if (step.type === "human_task") return "Human task";
  if (step.type === "plugin") return `Plugin ${String(step.params?.plugin ?? "")}`.trim();
  return step.type;
}

export function stepSummary(step: Step): string {
  if (isIf(step)) return step.condition;
  const params = step.params ?? {};
  if (step.type === "human_task") return String(params.title ?? "");
  return Object.entries(params)
    .filter(([, v]) => typeof v !== "object" || v === null)
    .slice(0, 2)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(", ");
}

function nodeType(step: Step): GraphNode["type"] {
  if (isIf(step)) return "branch";
  if (step.type === "human_task") return "task";
  return "action";
}

/** The graph of a definition, positioned by its layout or laid out top to bottom. */
export function toGraph(def: Definition): Graph {
  const layout = readLayout(def.layout);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const ids = new Map<Step, string>(indexSteps(def.actions).map((s) => [s.step, s.id]));
  const edge = (source: string, target: string, handle: Handle) => {
    edges.push({ id: `${source}>${handle}>${target}`, source, target, sourceHandle: handle, label: handle === "next" ? undefined : handle });
  };

  nodes.push({ id: TRIGGER, type: "trigger", position: layout.trigger ?? { x: 0, y: 0 }, data: { kind: "trigger", event: def.trigger.event } });
  let head = TRIGGER;
  let y = Y_GAP;
  if (def.trigger.conditions !== undefined) {
    nodes.push({
      id: CONDITION,
      type: "condition",
      position: layout.condition ?? { x: 0, y },
      data: { kind: "condition", conditions: def.trigger.conditions, text: conditionText(def.trigger.conditions) },
    });
    edge(TRIGGER, CONDITION, "next");
    head = CONDITION;
    y += Y_GAP;
  }

  // Lays out `list` from (x, y); links `from` to its first step; returns the y after it.
  const place = (list: Step[], x: number, top: number, from: string, handle: Handle): number => {
    let prev = from;
    let prevHandle = handle;
    let cursor = top;
    for (const step of list) {
      const id = stepNodeId(ids.get(step) as string);
      const { then: _t, else: elseSteps, ...rest } = step as IfStep;
      const bare = (isIf(step) ? rest : step) as Step;
      nodes.push({
        id,
        type: nodeType(step),
        position: layout.steps?.[ids.get(step) as string] ?? { x, y: cursor },
        data: {
          kind: "step",
          step: structuredClone(bare),
          emptyElse: isIf(step) && Array.isArray(elseSteps) && elseSteps.length === 0 ? true : undefined,
          title: stepTitle(step),
          summary: stepSummary(step),
        },
      });
      edge(prev, id, prevHandle);
      cursor += Y_GAP;
      if (isIf(step)) {
        const thenEnd = place(step.then, x - X_GAP / 2, cursor, id, "then");
        const elseEnd = place(step.else ?? [], x + X_GAP / 2, cursor, id, "else");
        cursor = Math.max(thenEnd, elseEnd);
      }
      prev = id;
      prevHandle = "next";
    }
    return cursor;
  };
  place(def.actions, 0, y, head, "next");
  return { nodes, edges };
}

/**
 * The definition a graph describes, on top of `base` (name, status, layout, ...). Step
 * nodes no edge reaches are appended to the end of the main sequence, so nothing is lost.
 */
export function fromGraph(base: Definition, graph: Graph): Definition {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out = new Map<string, string>();
  for (const e of graph.edges) out.set(`${e.source}|${e.sourceHandle ?? "next"}`, e.target);
  const seen = new Set<string>();

  const chain = (start: string | undefined): Step[] => {
    const steps: Step[] = [];
    let id = start;
    while (id && !seen.has(id)) {
      const node = byId.get(id);
      if (!node || node.data.kind !== "step") break;
      seen.add(id);
      steps.push(rebuild(node));
      id = out.get(`${id}|next`);
    }
    return steps;
  };
  const rebuild = (node: GraphNode): Step => {
    const data = node.data as StepData;
    const step = structuredClone(data.step);
    if (!isIf(step)) return step;
    const then = chain(out.get(`${node.id}|then`));
    const elseSteps = chain(out.get(`${node.id}|else`));
    const rebuilt: IfStep = { ...step, then };
    if (elseSteps.length > 0 || data.emptyElse) rebuilt.else = elseSteps;
    return rebuilt;
  };

  const trigger = byId.get(TRIGGER);
  const event = trigger && trigger.data.kind === "trigger" ? trigger.data.event : base.trigger.event;
  let start = out.get(`${TRIGGER}|next`);
  const triggerOut: Definition["trigger"] = { event };
  const condition = start ? byId.get(start) : undefined;
  if (condition && condition.data.kind === "condition") {
    if (condition.data.conditions !== undefined) triggerOut.conditions = structuredClone(condition.data.conditions);
    start = out.get(`${CONDITION}|next`);
  }
  const actions = chain(start);
  for (const node of graph.nodes) {
    if (node.data.kind === "step" && !seen.has(node.id)) actions.push(...chain(node.id));
  }
  return { ...base, trigger: triggerOut, actions };
}

/** Where a connection from `source`'s `handle` puts the step it reaches. */
function insertionPoint(def: Definition, source: string, handle: Handle): { list: ListPath; index: number } | null {
  if (source === TRIGGER || source === CONDITION) return { list: [], index: 0 };
  const stepId = stepIdOf(source);
  const loc: StepLoc | undefined = stepId ? locate(def.actions, stepId) : undefined;
  if (!loc) return null;
  if (handle === "next") return { list: loc.list, index: loc.index + 1 };
  return { list: [...loc.list, loc.index, handle], index: 0 };
}

/**
 * Reorder by reconnecting: connecting `source` (at `handle`) to `target` moves the target
 * step right after the source (or to the start of the branch). Null when the move is
 * impossible (the trigger or condition as target, an `if` into its own branch).
 */
export function connect(def: Definition, source: string, handle: Handle, target: string): Definition | null {
  const targetId = stepIdOf(target);
  if (!targetId || source === target) return null;
  const from = locate(def.actions, targetId);
  const at = insertionPoint(def, source, handle);
  if (!from || !at) return null;
  const moved = moveStep(def, from, at.list, at.index);
  return moved ? keepLayout(def, moved) : null;
}

/**
 * Steps without an explicit id are named by their position (`step_N`), so a move renames
 * them; their saved positions follow them to their new names.
 */
export function keepLayout(before: Definition, after: Definition): Definition {
  const layout = readLayout(before.layout);
  if (!layout.steps || Object.keys(layout.steps).length === 0) return after;
  const oldIds = new Map(indexSteps(before.actions).map((s) => [identity(s.step), s.id]));
  const steps: Record<string, Position> = {};
  for (const s of indexSteps(after.actions)) {
    const old = oldIds.get(identity(s.step));
    if (old && layout.steps[old]) steps[s.id] = layout.steps[old];
  }
  const next = { ...(after.layout as Record<string, Json>) } as Record<string, Json>;
  next.steps = steps as unknown as Json;
  return { ...after, layout: next };
}

/** A step's identity across a move: its content without branches. */
function identity(step: Step): string {
  const { then: _t, else: _e, ...rest } = step as IfStep;
  return JSON.stringify(rest);
}
