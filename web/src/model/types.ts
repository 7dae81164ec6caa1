// The definition as the API takes it (DESIGN §3.1), and the schema answer of GET /schema.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ActionStep {
  id?: string;
  type: string;
  condition?: string;
  params?: JsonObject;
}

export interface IfStep {
  id?: string;
  type: "if";
  condition: string;
  then: Step[];
  else?: Step[];
}

export type Step = ActionStep | IfStep;

export interface Position {
  x: number;
  y: number;
}

/** Node positions of the visual builder; stored with the definition, never read by the engine. */
export interface Layout {
  nodes: Record<string, Position>;
}

export interface Definition {
  name: string;
  description?: string;
  status?: string;
  environment?: string;
  trigger: { event: string; conditions?: string | JsonObject };
  actions: Step[];
  layout?: Layout | Json;
}

export function isIf(step: Step): step is IfStep {
  return step.type === "if";
}

export interface FieldSchema {
  type: string;
  values?: string[];
  object?: string;
  deprecated?: boolean;
}

export interface ParamSchema {
  name: string;
  type: string;
  required?: boolean;
  description?: string;
  choices?: string[];
}

export interface ActionSchema {
  name: string;
  description?: string;
  params: ParamSchema[];
  one_of?: string[][];
  output?: { kind: string; fields?: { name: string; type: string }[] };
  effects?: string[];
}

export interface Schema {
  objects: Record<string, { fields: Record<string, FieldSchema> }>;
  events: Record<string, string[]>;
  custom_events: string[];
  actions: ActionSchema[];
}

export interface Diagnostic {
  code: string;
  severity: string;
  message: string;
  line?: number;
  column?: number;
  end_line?: number;
  end_column?: number;
  pointer?: string;
  suggestion?: string | null;
  notes?: string[];
}
