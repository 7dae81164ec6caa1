import { describe, expect, it } from "vitest";
import actions from "./test_data/actions.json";
import { indexSteps } from "./definition";
import { exampleDefinitions } from "./examples";
import { formRows, fromInput, rowsToForm, toInput } from "./params";
import { ActionSchema, isIf } from "./types";

const catalog = actions as ActionSchema[];

describe("action params <-> form inputs", () => {
  for (const { file, def } of exampleDefinitions()) {
    it(`round-trips every param of ${file} through its input`, () => {
      for (const { step } of indexSteps(def.actions)) {
        if (isIf(step)) continue;
        const action = catalog.find((a) => a.name === step.type);
        expect(action, `action ${step.type}`).toBeDefined();
        for (const [name, value] of Object.entries(step.params ?? {})) {
          const param = action!.params.find((p) => p.name === name);
          expect(param, `${step.type}.${name}`).toBeDefined();
          expect(fromInput(param!, toInput(param!, value))).toEqual(value);
        }
      }
    });
  }

  const param = (type: string) => ({ name: "x", type });
  it("types what the inputs hold", () => {
    expect(fromInput(param("number"), "42")).toBe(42);
    expect(fromInput(param("number"), "{{ amount * 2 }}")).toBe("{{ amount * 2 }}");
    expect(fromInput(param("bool"), "true")).toBe(true);
    expect(fromInput(param("duration"), "48h")).toBe("{{ 48h }}");
    expect(toInput(param("duration"), "{{ 48h }}")).toBe("48h");
    expect(fromInput(param("any"), "true")).toBe(true);
    expect(fromInput(param("any"), "hello")).toBe("hello");
    expect(fromInput(param("any"), "{{ amount }}")).toBe("{{ amount }}");
    expect(fromInput(param("map"), '{"a": 1}')).toEqual({ a: 1 });
    expect(fromInput(param("string"), "")).toBeUndefined();
  });

  it("edits a human task form as rows", () => {
    const rows = formRows({ approved: "bool", notes: "string" });
    expect(rows).toEqual([{ name: "approved", type: "bool" }, { name: "notes", type: "string" }]);
    expect(rowsToForm([...rows, { name: " ", type: "number" }])).toEqual({ approved: "bool", notes: "string" });
  });
});
