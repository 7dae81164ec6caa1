// Why an automation ran or not on a record's event (the automation log), and how a sandbox
// copy differed from its live automation (the shadow diff): the API's shapes and the one
// line of text the UI shows for each. Pure: no React, no requests.

import { Json } from "./types";

export interface Clause {
  text: string;
  result: boolean;
  values: { field: string; value: Json }[];
}

export interface Considered {
  automation_id: string;
  name: string;
  version: number;
  outcome: "matched" | "not_matched" | "excluded" | "loop_detected";
  dry_run?: boolean;
  run_id?: string;
  explanation?: { result: boolean; decision: string; clauses: Clause[] };
  reason?: "draft" | "paused" | "archived" | "sandbox_off";
  error?: string;
}

export interface LogEntry {
  event_id: string;
  event_type: string;
  object: string;
  record_id: string;
  created_at: string;
  depth: number;
  automations: Considered[];
  not_listed: number;
}

export type Difference =
  | { kind: "matched"; live: boolean; sandbox: boolean }
  | { kind: "step"; step_id: string; taken_by: "live" | "sandbox" }
  | { kind: "field"; step_id: string; object: string; field: string; live: Json; sandbox: Json }
  | { kind: "recipient"; step_id: string; live: string[]; sandbox: string[] };

export interface RunRef {
  run_id: string;
  version: number;
  status: string;
}

export interface EventDiff {
  event_id: string;
  object?: string | null;
  record_id?: string | null;
  at: string;
  live?: RunRef | null;
  sandbox?: RunRef | null;
  differences: Difference[];
}

export interface ShadowDiff {
  live_id: string;
  sandbox_id: string;
  since: string;
  items: EventDiff[];
  next_cursor: string | null;
  totals: {
    events: number;
    same: number;
    differing: number;
    matched_live_only: number;
    matched_sandbox_only: number;
    steps: number;
    fields: number;
    recipients: number;
  };
  truncated: boolean;
}

const REASONS: Record<string, string> = {
  draft: "it is a draft",
  paused: "it is paused",
  archived: "it is archived",
  sandbox_off: "it is a sandbox automation and the sandbox is off",
};

function values(c: Clause): string {
  return c.values.map((v) => `${v.field} = ${JSON.stringify(v.value)}`).join(", ");
}

/** One line: what happened to this automation on the event, and why. */
export function outcomeText(c: Considered): string {
  switch (c.outcome) {
    case "matched":
      return c.dry_run ? "Matched: ran in dry-run (sandbox)" : "Matched: ran";
    case "loop_detected":
      return `Matched, but the loop guard stopped it: ${c.error ?? "loop detected"}`;
    case "excluded":
      return `Not considered: ${REASONS[c.reason ?? ""] ?? c.reason ?? "excluded"}`;
    case "not_matched": {
      const failing = c.explanation?.clauses.find((cl) => !cl.result);
      if (!failing) return "Did not match";
      const seen = values(failing);
      return `Did not match: ${failing.text} was false${seen ? ` (saw ${seen})` : ""}`;
    }
  }
}

function show(v: Json): string {
  return v === null ? "nothing" : JSON.stringify(v);
}

/** One line per difference of a shadow diff. */
export function differenceText(d: Difference): string {
  switch (d.kind) {
    case "matched":
      return d.live ? "Live matched, the sandbox copy did not" : "The sandbox copy matched, live did not";
    case "step":
      return `Step ${d.step_id} ran in ${d.taken_by === "live" ? "live" : "the sandbox copy"} only`;
    case "field":
      return `Step ${d.step_id} wrote ${d.object}.${d.field}: live ${show(d.live)}, sandbox ${show(d.sandbox)}`;
    case "recipient":
      return `Step ${d.step_id} sent to ${d.live.join(", ") || "nobody"} live, ${d.sandbox.join(", ") || "nobody"} in the sandbox`;
  }
}

/** The totals as one sentence. */
export function totalsText(t: ShadowDiff["totals"]): string {
  return `${t.differing} of ${t.events} events differ (${t.matched_live_only} matched by live only, ${t.matched_sandbox_only} by the sandbox copy only, ${t.steps} steps, ${t.fields} fields, ${t.recipients} recipients)`;
}
