import { describe, expect, it } from "vitest";
import { applyAt, conditionRange, lineRange, validationBody } from "./validation";
import { Definition } from "./types";

const def: Definition = {
  name: "x",
  trigger: { event: "case.created", conditions: { priority: "critical" } },
  actions: [{ type: "assign_to_queue", params: { queue_id: "q" } }],
};

/** What the server reports: 1-based code point columns of a span in the body text. */
function diagnosticAt(body: string, start: number, end: number) {
  const col = (offset: number) => [...body.slice(0, offset)].length + 1;
  return { code: "E0101", severity: "error", message: "m", line: 1, column: col(start), end_line: 1, end_column: col(end), pointer: "/trigger/conditions" };
}

describe("condition diagnostics map back into the condition text", () => {
  const cases = ['priorty == "critical"', 'subject == "a \\"q\\" é" and priorty == "x"', "é😀 and priorty"];
  for (const text of cases) {
    it(`finds priorty in ${text}`, () => {
      const body = validationBody(def, text);
      const parsed = JSON.parse(body.text);
      expect(parsed.trigger.conditions).toBe(text);
      expect(parsed.actions).toEqual(def.actions);
      const rawStart = body.text.indexOf("priorty");
      const range = conditionRange(body, diagnosticAt(body.text, rawStart, rawStart + 7))!;
      expect(text.slice(range.start, range.end)).toBe("priorty");
      expect(applyAt(text, range, "priority")).toBe(text.replace("priorty", "priority"));
    });
  }

  it("ignores diagnostics elsewhere", () => {
    const body = validationBody(def, "priority == 1");
    expect(conditionRange(body, { code: "E0201", severity: "error", message: "m", line: 1, column: 3, pointer: "/actions/0" })).toBeNull();
  });

  it("leaves the condition out when blank", () => {
    expect(JSON.parse(validationBody(def, " ").text).trigger).toEqual({ event: "case.created" });
  });

  it("maps DSL lines and columns to offsets", () => {
    const text = 'automation "a" {\n  if priorty == "x"\n}';
    const r = lineRange(text, { code: "E0101", severity: "error", message: "m", line: 2, column: 6, end_line: 2, end_column: 13 })!;
    expect(text.slice(r.start, r.end)).toBe("priorty");
  });
});
