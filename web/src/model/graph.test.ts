import { describe, expect, it } from "vitest";
import { exampleDefinitions } from "./examples";
import { CONDITION, TRIGGER, connect, fromGraph, stepNodeId, toGraph, withPosition } from "./graph";
import { Definition, IfStep } from "./types";

const examples = exampleDefinitions();

function bare(def: Definition): Definition {
  return { ...def, trigger: { event: "" }, actions: [] };
}

describe("definition <-> builder graph", () => {
  it("finds the examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(9);
  });

  for (const { file, def } of examples) {
    it(`round-trips ${file}`, () => {
      const graph = toGraph(def);
      expect(fromGraph(bare(def), graph)).toEqual(def);
    });

    it(`gives every step of ${file} one node and a path from the trigger`, () => {
      const graph = toGraph(def);
      const ids = graph.nodes.map((n) => n.id);
      expect(new Set(ids).size).toBe(ids.length);
      const reached = new Set([TRIGGER]);
      for (const e of graph.edges) {
        expect(reached.has(e.source)).toBe(true);
        reached.add(e.target);
      }
      expect(reached.size).toBe(graph.nodes.length);
    });

    it(`keeps the order of ${file} when the graph edges arrive shuffled`, () => {
      const graph = toGraph(def);
      const shuffled = { nodes: [...graph.nodes].reverse(), edges: [...graph.edges].reverse() };
      expect(fromGraph(bare(def), shuffled)).toEqual(def);
    });
  }

  it("draws if/else branches from the if node's handles", () => {
    const def = examples.find((e) => e.file === "opportunity-discount-approval.json")!.def;
    const graph = toGraph(def);
    const handles = graph.edges.filter((e) => e.source === stepNodeId("step_2")).map((e) => e.sourceHandle).sort();
    expect(handles).toEqual(["else", "then"]);
    expect(graph.nodes.find((n) => n.id === stepNodeId("approval"))?.type).toBe("task");
    expect(graph.nodes.find((n) => n.id === stepNodeId("step_2"))?.type).toBe("branch");
  });

  it("places nodes at their saved positions and saves moves in the layout", () => {
    const def = examples.find((e) => e.file === "auto-assign-critical-cases.json")!.def;
    const moved = withPosition(withPosition(def, stepNodeId("step_2"), { x: 310.4, y: 42.6 }), CONDITION, { x: -5, y: 7 });
    expect(moved.layout).toEqual({ condition: { x: -5, y: 7 }, steps: { step_2: { x: 310, y: 43 } } });
    const graph = toGraph(moved);
    expect(graph.nodes.find((n) => n.id === stepNodeId("step_2"))?.position).toEqual({ x: 310, y: 43 });
    expect(fromGraph(bare(moved), graph)).toEqual(moved);
  });

  it("appends steps no edge reaches instead of dropping them", () => {
    const def = examples.find((e) => e.file === "auto-assign-critical-cases.json")!.def;
    const graph = toGraph(def);
    const cut = { ...graph, edges: graph.edges.filter((e) => e.target !== stepNodeId("step_1")) };
    const back = fromGraph(bare(def), cut);
    expect(back.actions).toEqual(def.actions);
    expect(back.trigger).toEqual(def.trigger);
  });
});

describe("reorder by reconnecting", () => {
  const seed = examples.find((e) => e.file === "auto-assign-critical-cases.json")!.def;

  it("moves the target step right after the source", () => {
    const moved = connect(seed, CONDITION, "next", stepNodeId("step_2"))!;
    expect(moved.actions.map((a) => a.type)).toEqual(["send_notification", "assign_to_queue"]);
    const back = connect(moved, stepNodeId("step_1"), "next", stepNodeId("step_1"));
    expect(back).toBeNull();
  });

  it("moves a step into an if branch and out again", () => {
    const def = examples.find((e) => e.file === "opportunity-discount-approval.json")!.def;
    // step_3 (update_field) sits in the then-branch; move it after the human task.
    const out = connect(def, stepNodeId("approval"), "next", stepNodeId("step_3"))!;
    expect(out.actions.map((a) => a.type)).toEqual(["human_task", "update_field", "if"]);
    // Ids by position now: step_2 is the update_field, step_3 the if.
    const into = connect(out, stepNodeId("step_3"), "else", stepNodeId("step_2"))!;
    expect(into.actions.map((a) => a.type)).toEqual(["human_task", "if"]);
    const branch = into.actions[1] as IfStep;
    expect(branch.then.map((a) => a.type)).toEqual(["send_email"]);
    expect(branch.else!.map((a) => a.type)).toEqual(["update_field", "create_task"]);
  });

  it("refuses to move an if into its own branch and the trigger anywhere", () => {
    const def = examples.find((e) => e.file === "opportunity-discount-approval.json")!.def;
    expect(connect(def, stepNodeId("step_3"), "next", stepNodeId("step_2"))).toBeNull();
    expect(connect(def, stepNodeId("approval"), "next", TRIGGER)).toBeNull();
  });

  it("keeps saved positions with the steps they belong to", () => {
    const placed = withPosition(seed, stepNodeId("step_1"), { x: 1, y: 2 });
    const moved = connect(placed, CONDITION, "next", stepNodeId("step_2"))!;
    // assign_to_queue is now the second step, `step_2`.
    expect((moved.layout as { steps: Record<string, unknown> }).steps).toEqual({ step_2: { x: 1, y: 2 } });
  });
});
