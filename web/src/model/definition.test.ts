import { describe, expect, it } from "vitest";
import { conditionText, conditionValue, deleteStep, indexSteps, insertStep, moveStep, newStep, appendStep, emptyDefinition } from "./definition";
import { exampleDefinitions } from "./examples";
import { IfStep } from "./types";

describe("condition text <-> definition", () => {
  for (const { file, def } of exampleDefinitions()) {
    it(`round-trips the condition of ${file}`, () => {
      const text = conditionText(def.trigger.conditions);
      expect(conditionValue(text)).toEqual(def.trigger.conditions);
    });
  }

  it("shows the seed's equality map as text", () => {
    expect(conditionText({ priority: "critical" })).toBe('priority == "critical"');
    expect(conditionText({ priority: "critical", amount: 5, active: true, x: null })).toBe(
      'priority == "critical" and amount == 5 and active == true and x == null',
    );
  });

  const cases: [string, unknown][] = [
    ['priority == "critical"', { priority: "critical" }],
    ["priority == 'critical' and account.tier == \"gold\"", { priority: "critical", "account.tier": "gold" }],
    ['subject == "say \\"hi\\""', { subject: 'say "hi"' }],
    ["amount == -2.5", { amount: -2.5 }],
    ["", undefined],
    ["   ", undefined],
    ['priority == "critical" or status == "new"', 'priority == "critical" or status == "new"'],
    ['priority == "a" and priority == "b"', 'priority == "a" and priority == "b"'],
    ['priority != "critical"', 'priority != "critical"'],
    ['priority == "critical" and', 'priority == "critical" and'],
    ['subject == "{{ name }}"', 'subject == "{{ name }}"'],
    ["amount > 10", "amount > 10"],
    ["priorty == \"critical\"", { priorty: "critical" }],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${JSON.stringify(text)}`, () => {
      expect(conditionValue(text)).toEqual(expected);
    });
  }
});

describe("step addresses and edits", () => {
  const def = exampleDefinitions().find((e) => e.file === "opportunity-discount-approval.json")!.def;

  it("names steps as the compiler does", () => {
    expect(indexSteps(def.actions).map((s) => s.id)).toEqual(["approval", "step_2", "step_3", "step_4", "step_5"]);
  });

  it("deletes a branch's last step and drops the empty else", () => {
    const out = deleteStep(def, { list: [1, "else"], index: 0 });
    expect((out.actions[1] as IfStep).else).toBeUndefined();
    expect(def.actions[1]).toHaveProperty("else"); // the original is untouched
  });

  it("moves within a list and across branches", () => {
    const swapped = moveStep(def, { list: [], index: 0 }, [], 2)!;
    expect(swapped.actions.map((a) => a.type)).toEqual(["if", "human_task"]);
    const out = moveStep(def, { list: [1, "then"], index: 1 }, [], 0)!;
    expect(out.actions.map((a) => a.type)).toEqual(["send_email", "human_task", "if"]);
    expect(moveStep(def, { list: [], index: 1 }, [1, "then"], 0)).toBeNull();
  });

  it("adds a step to an if's branches, creating the else on demand", () => {
    const noElse = deleteStep(def, { list: [1, "else"], index: 0 });
    const out = insertStep(noElse, newStep("wait"), [1, "else"], 0);
    expect((out.actions[1] as IfStep).else!.map((a) => a.type)).toEqual(["wait"]);
    const then = insertStep(def, newStep("notify_user"), [1, "then"], 2);
    expect((then.actions[1] as IfStep).then.map((a) => a.type)).toEqual(["update_field", "send_email", "notify_user"]);
    expect(() => insertStep(def, newStep("wait"), [0, "then"], 0)).toThrow();
  });

  it("adds new steps of every kind", () => {
    let d = emptyDefinition();
    for (const type of ["update_field", "if", "human_task", "wait", "plugin"]) d = appendStep(d, newStep(type));
    expect(d.actions.map((a) => a.type)).toEqual(["update_field", "if", "human_task", "wait", "plugin"]);
  });
});
