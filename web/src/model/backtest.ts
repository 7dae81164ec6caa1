// Backtests (issue 23) as the UI drives them: the request a form asks for, starting one,
// following it until it ends, and the words for its result. The API is
// POST /automations/{id}/backtest, GET .../backtests/{backtest_id}, POST .../cancel.

import { get, post } from "../api";
import { Json } from "./types";

export type BacktestStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

export interface RunCounts {
  total: number;
  completed: number;
  failed: number;
  waiting: number;
  loop_detected: number;
}

export interface EffectGroup {
  kind: string;
  target: string;
  count: number;
  values?: { value: Json; count: number }[];
  more_values?: number;
}

export interface SampleRun {
  event_id: string;
  event_type: string;
  event_at: string;
  record?: { object?: string; id?: string; [k: string]: Json | undefined } | null;
  matched: boolean;
  explanation: Json;
  status?: string | null;
  error?: string | null;
  steps: Json[];
}

export interface BacktestResult {
  trigger: string;
  events_considered: number;
  events_matched: number;
  truncated: boolean;
  last_event_at?: string | null;
  runs: RunCounts;
  effects: { groups: EffectGroup[]; more?: number };
  sample_runs: SampleRun[];
  sample_non_matches: SampleRun[];
  elapsed_ms: number;
}

export interface Backtest {
  id: string;
  automation_id: string;
  target_id: string;
  version: number;
  request: { from: string; to: string; limit: number; version: string | number };
  status: BacktestStatus;
  progress: { events_considered: number; events_matched: number };
  result: BacktestResult | null;
  error: string | null;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
}

export const RANGES = [
  { value: "24h", label: "Last 24 hours", ms: 24 * 3600_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 24 * 3600_000 },
  // The server keeps 30 days of record history by default and refuses a `from` even a
  // moment older; a minute's margin keeps this preset inside it despite clock drift.
  { value: "30d", label: "Last 30 days", ms: 30 * 24 * 3600_000 - 60_000 },
] as const;

export interface BacktestForm {
  /** A preset of RANGES, or "custom" with `from` and `to`. */
  range: string;
  /** `datetime-local` texts (local time), used when `range` is "custom". */
  from: string;
  to: string;
  /** As typed: a whole number from 1. */
  limit: string;
  /** "draft", "sandbox" or a version number as text. */
  version: string;
}

export interface BacktestBody {
  from: string;
  to: string;
  limit: number;
  version: string | number;
}

/** The body a form asks for, or a message saying which field is wrong. */
export function backtestBody(form: BacktestForm, now: Date): BacktestBody | { error: string } {
  const limit = Number(form.limit);
  if (!/^\d+$/.test(form.limit.trim()) || !Number.isSafeInteger(limit) || limit < 1) {
    return { error: `Event limit must be a whole number from 1, not "${form.limit}".` };
  }
  let from: Date;
  let to: Date;
  if (form.range === "custom") {
    from = new Date(form.from);
    to = new Date(form.to);
    if (!form.from || Number.isNaN(from.getTime())) return { error: "Choose the start of the range (From)." };
    if (!form.to || Number.isNaN(to.getTime())) return { error: "Choose the end of the range (To)." };
  } else {
    const preset = RANGES.find((r) => r.value === form.range);
    if (!preset) return { error: `Unknown range "${form.range}".` };
    to = now;
    from = new Date(now.getTime() - preset.ms);
  }
  const version = /^\d+$/.test(form.version) ? Number(form.version) : form.version;
  return { from: from.toISOString(), to: to.toISOString(), limit, version };
}

const path = (automationId: string) => `/automations/${encodeURIComponent(automationId)}`;

export function startBacktest(automationId: string, body: BacktestBody): Promise<Backtest> {
  return post<Backtest>(`${path(automationId)}/backtest`, body);
}

export function readBacktest(automationId: string, backtestId: string): Promise<Backtest> {
  return get<Backtest>(`${path(automationId)}/backtests/${encodeURIComponent(backtestId)}`);
}

export function cancelBacktest(automationId: string, backtestId: string): Promise<Backtest> {
  return post<Backtest>(`${path(automationId)}/backtests/${encodeURIComponent(backtestId)}/cancel`);
}

export function isFinished(b: Pick<Backtest, "status">): boolean {
  return b.status === "completed" || b.status === "failed" || b.status === "cancelled";
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads a backtest every `intervalMs` until it ends or `signal` aborts, handing each
 * answer to `onUpdate`; answers the last one read. A failed read ends the watch (thrown).
 */
export async function watchBacktest(
  start: Backtest,
  onUpdate: (b: Backtest) => void,
  { intervalMs = 1000, signal, sleep = wait }: { intervalMs?: number; signal?: AbortSignal; sleep?: (ms: number) => Promise<void> } = {},
): Promise<Backtest> {
  let current = start;
  while (!isFinished(current) && !signal?.aborted) {
    await sleep(intervalMs);
    if (signal?.aborted) break;
    current = await readBacktest(start.automation_id, start.id);
    if (!signal?.aborted) onUpdate(current);
  }
  return current;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "3 runs: 2 completed, 1 failed" (outcomes with no runs left out). */
export function runsText(runs: RunCounts): string {
  const parts = [
    runs.completed && `${runs.completed} completed`,
    runs.failed && `${runs.failed} failed`,
    runs.waiting && `${runs.waiting} waiting at a human task`,
    runs.loop_detected && `${runs.loop_detected} stopped by the loop guard`,
  ].filter(Boolean);
  return parts.length ? `${plural(runs.total, "run")}: ${parts.join(", ")}` : plural(runs.total, "run");
}

/** The values a `record.update` group wrote: `"won" ×3, "lost" ×1 (+2 more values)`. */
export function valuesText(group: EffectGroup): string {
  const listed = (group.values ?? []).map((v) => `${JSON.stringify(v.value)} ×${v.count}`).join(", ");
  const more = group.more_values ? ` (+${plural(group.more_values, "more value")})` : "";
  return listed + more;
}

/** What the progress line says while a backtest is queued or running. */
export function progressText(b: Backtest): string {
  if (b.status === "queued") return "Queued…";
  const p = b.progress;
  return `Running: ${plural(p.events_considered, "event")} considered, ${p.events_matched.toLocaleString("en-US")} matched so far…`;
}
