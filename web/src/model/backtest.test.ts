import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api";
import { Backtest, BacktestForm, backtestBody, cancelBacktest, runsText, startBacktest, valuesText, watchBacktest } from "./backtest";

const NOW = new Date("2026-12-04T12:00:00Z");
const form: BacktestForm = { range: "24h", from: "", to: "", limit: "500", version: "draft" };

function job(over: Partial<Backtest> = {}): Backtest {
  return {
    id: "bkt_1",
    automation_id: "aut_1",
    target_id: "aut_1",
    version: 2,
    request: { from: "2026-12-03T12:00:00Z", to: "2026-12-04T12:00:00Z", limit: 500, version: "draft" },
    status: "queued",
    progress: { events_considered: 0, events_matched: 0 },
    result: null,
    error: null,
    created_at: "2026-12-04T12:00:00Z",
    ...over,
  };
}

/** Answers the queued responses in order and records every request. */
function mockFetch(answers: { status: number; body: unknown }[]) {
  const calls: { url: string; method: string; body?: unknown; auth?: string }[] = [];
  const fetchMock = vi.fn(async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    calls.push({ url, method: init.method ?? "GET", body: init.body ? JSON.parse(String(init.body)) : undefined, auth: headers.Authorization });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${url}`);
    return new Response(JSON.stringify(next.body), { status: next.status });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

beforeEach(() => {
  const store = new Map([["automations.token", "tok"]]);
  vi.stubGlobal("sessionStorage", { getItem: (k: string) => store.get(k) ?? null, setItem: () => undefined, removeItem: () => undefined });
});
afterEach(() => vi.unstubAllGlobals());

describe("backtestBody", () => {
  it("turns a preset into a range ending now", () => {
    expect(backtestBody(form, NOW)).toEqual({ from: "2026-12-03T12:00:00.000Z", to: "2026-12-04T12:00:00.000Z", limit: 500, version: "draft" });
    const week = backtestBody({ ...form, range: "7d" }, NOW) as { from: string };
    expect(week.from).toBe("2026-11-27T12:00:00.000Z");
  });

  it("keeps the 30-day preset inside 30 days of kept history", () => {
    const month = backtestBody({ ...form, range: "30d" }, NOW) as { from: string };
    expect(new Date(month.from).getTime()).toBeGreaterThan(NOW.getTime() - 30 * 24 * 3600_000);
    expect(new Date(month.from).getTime()).toBeLessThan(NOW.getTime() - 29 * 24 * 3600_000);
  });

  it("sends a version number as a number and sandbox as text", () => {
    expect(backtestBody({ ...form, version: "3" }, NOW)).toMatchObject({ version: 3 });
    expect(backtestBody({ ...form, version: "sandbox" }, NOW)).toMatchObject({ version: "sandbox" });
  });

  it("reads a custom range as local time", () => {
    const body = backtestBody({ ...form, range: "custom", from: "2026-12-01T08:00", to: "2026-12-02T08:00" }, NOW) as { from: string; to: string };
    expect(body.from).toBe(new Date(2026, 11, 1, 8, 0).toISOString());
    expect(body.to).toBe(new Date(2026, 11, 2, 8, 0).toISOString());
  });

  it("says which field is wrong", () => {
    for (const limit of ["0", "-5", "1.5", "many", ""]) {
      expect(backtestBody({ ...form, limit }, NOW)).toEqual({ error: expect.stringContaining("Event limit") });
    }
    expect(backtestBody({ ...form, range: "custom", to: "2026-12-02T08:00" }, NOW)).toEqual({ error: expect.stringContaining("From") });
    expect(backtestBody({ ...form, range: "custom", from: "2026-12-02T08:00" }, NOW)).toEqual({ error: expect.stringContaining("To") });
  });
});

describe("the backtest API calls", () => {
  it("starts one with the body and the token", async () => {
    const calls = mockFetch([{ status: 202, body: job() }]);
    const body = { from: "a", to: "b", limit: 10, version: "draft" };
    expect(await startBacktest("aut 1", body)).toMatchObject({ id: "bkt_1", status: "queued" });
    expect(calls).toEqual([{ url: "/api/v1/automations/aut%201/backtest", method: "POST", body, auth: "Bearer tok" }]);
  });

  it("hands on the server's 400 message", async () => {
    mockFetch([{ status: 400, body: { error: { code: "bad_request", message: "the range is empty: from (x) must be before to (y)" } } }]);
    const failed = await startBacktest("aut_1", { from: "x", to: "y", limit: 1, version: "draft" }).catch((e) => e);
    expect(failed).toBeInstanceOf(ApiError);
    expect(failed).toMatchObject({ status: 400, message: "the range is empty: from (x) must be before to (y)" });
  });

  it("cancels through POST .../cancel", async () => {
    const calls = mockFetch([{ status: 200, body: job({ status: "cancelled" }) }]);
    expect((await cancelBacktest("aut_1", "bkt_1")).status).toBe("cancelled");
    expect(calls[0]).toMatchObject({ url: "/api/v1/automations/aut_1/backtests/bkt_1/cancel", method: "POST" });
  });
});

describe("watchBacktest", () => {
  const noSleep = () => Promise.resolve();

  it("reads every interval until the job ends, reporting each answer", async () => {
    const done = job({ status: "completed", progress: { events_considered: 4, events_matched: 3 } });
    const calls = mockFetch([
      { status: 200, body: job({ status: "running", progress: { events_considered: 2, events_matched: 1 } }) },
      { status: 200, body: done },
    ]);
    const seen: string[] = [];
    const slept: number[] = [];
    const last = await watchBacktest(job(), (b) => seen.push(`${b.status} ${b.progress.events_considered}`), {
      sleep: async (ms) => void slept.push(ms),
    });
    expect(last).toEqual(done);
    expect(seen).toEqual(["running 2", "completed 4"]);
    expect(slept).toEqual([1000, 1000]);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/automations/aut_1/backtests/bkt_1", "/api/v1/automations/aut_1/backtests/bkt_1"]);
  });

  it("does not read a job that already ended", async () => {
    const calls = mockFetch([]);
    expect((await watchBacktest(job({ status: "failed", error: "boom" }), () => undefined, { sleep: noSleep })).status).toBe("failed");
    expect(calls).toEqual([]);
  });

  it("stops when aborted (a cancel, or the page closing)", async () => {
    const controller = new AbortController();
    const calls = mockFetch([{ status: 200, body: job({ status: "running" }) }]);
    const seen: string[] = [];
    const last = await watchBacktest(job(), (b) => seen.push(b.status), {
      signal: controller.signal,
      sleep: async () => {
        if (calls.length === 1) controller.abort();
      },
    });
    expect(calls).toHaveLength(1);
    expect(seen).toEqual(["running"]);
    expect(last.status).toBe("running");
  });

  it("ends with the error when a read fails", async () => {
    mockFetch([{ status: 404, body: { error: { code: "not_found", message: "backtest not found: bkt_1" } } }]);
    await expect(watchBacktest(job(), () => undefined, { sleep: noSleep })).rejects.toMatchObject({ status: 404 });
  });
});

describe("result text", () => {
  it("names the outcomes that happened", () => {
    expect(runsText({ total: 3, completed: 2, failed: 1, waiting: 0, loop_detected: 0 })).toBe("3 runs: 2 completed, 1 failed");
    expect(runsText({ total: 0, completed: 0, failed: 0, waiting: 0, loop_detected: 0 })).toBe("0 runs");
    expect(runsText({ total: 1, completed: 0, failed: 0, waiting: 1, loop_detected: 0 })).toBe("1 run: 1 waiting at a human task");
  });

  it("lists the values a field update wrote", () => {
    expect(valuesText({ kind: "record.update", target: "case.status", count: 6, values: [{ value: "open", count: 4 }, { value: 2, count: 1 }], more_values: 1 })).toBe(
      '"open" ×4, 2 ×1 (+1 more value)',
    );
    expect(valuesText({ kind: "email", target: "a@example.com", count: 2 })).toBe("");
  });
});
