// The visual builder: the definition's graph (model/graph.ts) drawn with @xyflow/react.
// Every edit is an edit of the definition: a palette adds steps, Delete removes one,
// connecting (or dragging an edge's end to) a node moves that step after the source,
// dragging a node stores its position in the definition's `layout`.

import { useCallback, useEffect, useMemo, useState } from "react";
import {
  Background,
  Controls,
  Edge,
  Handle as FlowHandle,
  MarkerType,
  Node,
  NodeChange,
  NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  Connection,
} from "@xyflow/react";
import { appendStep, deleteStep, locate, newStep, replaceStep, stepAt } from "../model/definition";
import { CONDITION, Graph, Handle, TRIGGER, connect, keepLayout, stepIdOf, toGraph, withPosition, NodeData, StepData } from "../model/graph";
import { Definition, Diagnostic, Step, isIf } from "../model/types";
import { stepPointer, under } from "../model/validation";
import { StepForm } from "./ActionForm";
import { AddAction } from "./AddAction";
import { TriggerPicker } from "./TriggerPicker";

type FlowNode = Node<NodeData>;

function Box({ data, kind, children, handles }: { data: NodeData; kind: string; children: React.ReactNode; handles: "source" | "both" | "branch" | "target" }) {
  return (
    <div className={`flow-node flow-${kind}`}>
      {handles !== "source" && <FlowHandle type="target" position={Position.Top} />}
      {children}
      {(handles === "source" || handles === "both") && <FlowHandle type="source" position={Position.Bottom} id="next" />}
      {handles === "branch" && (
        <>
          <FlowHandle type="source" position={Position.Left} id="then" className="handle-then" />
          <FlowHandle type="source" position={Position.Right} id="else" className="handle-else" />
          <FlowHandle type="source" position={Position.Bottom} id="next" />
        </>
      )}
      {data.kind === "step" && (data as StepData).errors ? <span className="node-errors">{String((data as StepData).errors)} ⚠</span> : null}
    </div>
  );
}

const nodeTypes = {
  trigger: ({ data }: NodeProps<FlowNode>) => (
    <Box data={data} kind="trigger" handles="source">
      <div className="node-kind">Trigger</div>
      <div className="node-main mono">{data.kind === "trigger" ? data.event || "choose an event" : ""}</div>
    </Box>
  ),
  condition: ({ data }: NodeProps<FlowNode>) => (
    <Box data={data} kind="condition" handles="both">
      <div className="node-kind">Condition</div>
      <div className="node-main mono">{data.kind === "condition" ? data.text || "always" : ""}</div>
    </Box>
  ),
  action: ({ data }: NodeProps<FlowNode>) => <StepBox data={data} kind="action" handles="both" />,
  task: ({ data }: NodeProps<FlowNode>) => <StepBox data={data} kind="task" handles="both" />,
  branch: ({ data }: NodeProps<FlowNode>) => <StepBox data={data} kind="branch" handles="branch" />,
};

function StepBox({ data, kind, handles }: { data: NodeData; kind: string; handles: "both" | "branch" }) {
  const d = data as StepData;
  return (
    <Box data={data} kind={kind} handles={handles}>
      <div className="node-kind">{d.title}</div>
      <div className="node-main">{d.summary || <span className="muted">not configured</span>}</div>
    </Box>
  );
}

function flowEdges(graph: Graph): Edge[] {
  return graph.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    sourceHandle: e.sourceHandle,
    label: e.label,
    markerEnd: { type: MarkerType.ArrowClosed },
    className: `edge-${e.sourceHandle}`,
  }));
}

/**
 * Node names for assistive technology. They avoid the field labels of the side panel
 * (`Condition`, param names) so that a label finds one control.
 */
function nodeLabel(n: Graph["nodes"][number]): string {
  if (n.data.kind === "trigger") return `Trigger node, ${n.data.event || "no event yet"}`;
  if (n.data.kind === "condition") return "Filter node";
  const step = (n.data as StepData).step;
  return `Step node, ${step.type === "if" ? "if/else" : step.type}`;
}

/** Fits the view when nodes come or go, so a node added from the palette is on screen. */
function FitOnCountChange({ count }: { count: number }) {
  const flow = useReactFlow();
  useEffect(() => {
    const frame = requestAnimationFrame(() => void flow.fitView({ padding: 0.2, maxZoom: 1 }));
    return () => cancelAnimationFrame(frame);
  }, [count, flow]);
  return null;
}

export function Builder(props: BuilderProps) {
  return (
    <ReactFlowProvider>
      <BuilderInner {...props} />
    </ReactFlowProvider>
  );
}

interface BuilderProps {
  def: Definition;
  setDef: (def: Definition) => void;
  diagnostics: Diagnostic[];
  triggerObject: string | null;
  conditionEditor: React.ReactNode;
  onAddCondition: () => void;
}

function BuilderInner({
  def,
  setDef,
  diagnostics,
  triggerObject,
  conditionEditor,
  onAddCondition,
}: BuilderProps) {
  const graph = useMemo(() => toGraph(def), [def]);
  const errorsByNode = useMemo(() => {
    const out = new Map<string, number>();
    for (const n of graph.nodes) {
      const id = stepIdOf(n.id);
      const loc = id ? locate(def.actions, id) : undefined;
      if (loc) out.set(n.id, under(diagnostics, stepPointer(loc)).filter((d) => d.severity === "error" && !d.pointer?.match(/\/(then|else)\//)).length);
    }
    return out;
  }, [graph, def, diagnostics]);
  const [nodes, setNodes] = useState<FlowNode[]>([]);
  const [selected, setSelected] = useState<string>(TRIGGER);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    setNodes((prev) => {
      const before = new Map(prev.map((n) => [n.id, n]));
      const wasSelected = new Set(prev.filter((n) => n.selected).map((n) => n.id));
      return graph.nodes.map((n) => ({
        // Keep what the canvas measured: a node without it cannot be dragged.
        ...before.get(n.id),
        id: n.id,
        type: n.type,
        position: n.position,
        data: { ...n.data, errors: errorsByNode.get(n.id) || undefined },
        selected: wasSelected.has(n.id) || n.id === selected,
        deletable: n.id !== TRIGGER,
        ariaLabel: nodeLabel(n),
      }));
    });
    // Selection follows the definition: a node that is gone is no longer selected.
    if (!graph.nodes.some((n) => n.id === selected)) setSelected(TRIGGER);
  }, [graph, errorsByNode, selected]);

  const edges = useMemo(() => flowEdges(graph), [graph]);

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
  }, []);

  const removeNode = useCallback(
    (id: string) => {
      if (id === CONDITION) {
        const { conditions: _c, ...trigger } = def.trigger;
        setDef({ ...def, trigger });
        return;
      }
      const stepId = stepIdOf(id);
      const loc = stepId ? locate(def.actions, stepId) : undefined;
      if (loc) setDef(keepLayout(def, deleteStep(def, loc)));
    },
    [def, setDef],
  );

  const move = useCallback(
    (source: string, handle: string | null | undefined, target: string) => {
      const moved = connect(def, source, (handle ?? "next") as Handle, target);
      if (moved) {
        setDef(moved);
        setMessage(null);
      } else setMessage("That connection cannot be made: connect a step below a node, not the trigger or an if into its own branch.");
    },
    [def, setDef],
  );

  const add = (type: string) => {
    const next = appendStep(def, newStep(type));
    setDef(next);
    const all = toGraph(next).nodes;
    setSelected(all[all.length - 1].id);
  };

  const selectedNode = graph.nodes.find((n) => n.id === selected);
  let panel: React.ReactNode = null;
  if (selectedNode?.data.kind === "trigger") {
    panel = (
      <>
        <h3>Trigger</h3>
        <TriggerPicker value={def.trigger.event} onChange={(event) => setDef({ ...def, trigger: { ...def.trigger, event } })} />
        {conditionEditor}
      </>
    );
  } else if (selectedNode?.data.kind === "condition") {
    panel = (
      <>
        <h3>Condition</h3>
        {conditionEditor}
      </>
    );
  } else if (selectedNode) {
    const loc = locate(def.actions, stepIdOf(selectedNode.id) as string);
    const step = loc ? stepAt(def.actions, loc) : undefined;
    if (loc && step) {
      panel = (
        <>
          <h3>
            {(selectedNode.data as StepData).title} <code className="small">{stepIdOf(selectedNode.id)}</code>
          </h3>
          <StepForm
            step={step}
            pointer={stepPointer(loc)}
            triggerObject={triggerObject}
            diagnostics={diagnostics}
            onChange={(s: Step) => setDef(replaceStep(def, loc, isIf(step) && isIf(s) ? { ...s, then: step.then, ...(step.else ? { else: step.else } : {}) } : s))}
          />
        </>
      );
    }
  }

  return (
    <div className="builder">
      <div className="palette" role="group" aria-label="Palette">
        <AddAction onAdd={add} />
        <div className="palette-buttons">
          {def.trigger.conditions === undefined && (
            <button type="button" className="secondary small" onClick={() => { onAddCondition(); setSelected(CONDITION); }}>
              Add condition
            </button>
          )}
          <button type="button" className="secondary small" onClick={() => add("if")}>Add if/else</button>
          <button type="button" className="secondary small" onClick={() => add("human_task")}>Add human task</button>
          <button type="button" className="secondary small" onClick={() => add("wait")}>Add wait</button>
          <button type="button" className="secondary small" onClick={() => add("plugin")}>Add plugin step</button>
          {selected !== TRIGGER && (
            <button type="button" className="danger small" onClick={() => removeNode(selected)}>
              Delete node
            </button>
          )}
        </div>
        <p className="hint">
          Drag from a node's lower handle to another node to move that step after it; an if node's left handle is <em>then</em>, its right handle{" "}
          <em>else</em>. Select a node and press Delete to remove it.
        </p>
        {message && (
          <p className="error" role="alert">
            {message}
          </p>
        )}
      </div>
      <div
        className="canvas"
        aria-label="Workflow canvas"
        onKeyDown={(e) => {
          // Tab to a node, then Enter or Space opens its form, as a click does.
          const id = (document.activeElement as HTMLElement | null)?.closest(".react-flow__node")?.getAttribute("data-id");
          if (id && (e.key === "Enter" || e.key === " ")) setSelected(id);
        }}
      >
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onNodeClick={(_, n) => setSelected(n.id)}
          onNodeDragStop={(_, n) => setDef(withPosition(def, n.id, n.position))}
          onNodesDelete={(ns) => ns.forEach((n) => n.id !== TRIGGER && removeNode(n.id))}
          onConnect={(c: Connection) => move(c.source, c.sourceHandle, c.target)}
          onReconnect={(_old, c) => move(c.source, c.sourceHandle, c.target)}
          edgesReconnectable
          deleteKeyCode={["Delete", "Backspace"]}
          fitView
          fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
          minZoom={0.2}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={16} />
          <FitOnCountChange count={graph.nodes.length} />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      <aside className="inspector" aria-label="Selected node">
        {panel ?? <p className="muted">Select a node to edit it.</p>}
      </aside>
    </div>
  );
}

