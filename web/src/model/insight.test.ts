import { describe, expect, it } from "vitest";
import { Considered, differenceText, outcomeText, totalsText } from "./insight";

const base: Considered = { automation_id: "aut_1", name: "A", version: 1, outcome: "matched" };

describe("outcomeText", () => {
  it("names the failing clause and the value it saw", () => {
    const c: Considered = {
      ...base,
      outcome: "not_matched",
      explanation: {
        result: false,
        decision: "first_false",
        clauses: [
          { text: "subject == 'outage'", result: true, values: [{ field: "subject", value: "outage" }] },
          { text: "priority == 'critical'", result: false, values: [{ field: "priority", value: "low" }] },
        ],
      },
    };
    expect(outcomeText(c)).toBe(`Did not match: priority == 'critical' was false (saw priority = "low")`);
  });

  it("says what excluded an automation", () => {
    expect(outcomeText({ ...base, outcome: "excluded", reason: "paused" })).toBe("Not considered: it is paused");
    expect(outcomeText({ ...base, outcome: "excluded", reason: "sandbox_off" })).toContain("sandbox is off");
  });

  it("tells a dry run and the loop guard apart", () => {
    expect(outcomeText({ ...base, dry_run: true })).toBe("Matched: ran in dry-run (sandbox)");
    expect(outcomeText({ ...base, outcome: "loop_detected", error: "loop_detected: depth 17" })).toContain("depth 17");
  });
});

describe("differenceText", () => {
  it("describes each kind", () => {
    expect(differenceText({ kind: "matched", live: true, sandbox: false })).toBe("Live matched, the sandbox copy did not");
    expect(differenceText({ kind: "step", step_id: "step_3", taken_by: "sandbox" })).toBe("Step step_3 ran in the sandbox copy only");
    expect(
      differenceText({ kind: "field", step_id: "step_1", object: "opportunity", field: "probability", live: 50, sandbox: null }),
    ).toBe("Step step_1 wrote opportunity.probability: live 50, sandbox nothing");
    expect(differenceText({ kind: "recipient", step_id: "step_2", live: ["user:u_sales"], sandbox: [] })).toBe(
      "Step step_2 sent to user:u_sales live, nobody in the sandbox",
    );
  });

  it("sums up the totals", () => {
    const t = { events: 44, same: 24, differing: 20, matched_live_only: 20, matched_sandbox_only: 0, steps: 0, fields: 0, recipients: 0 };
    expect(totalsText(t)).toMatch(/^20 of 44 events differ/);
  });
});
