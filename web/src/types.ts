// Wire shapes of the API answers the UI reads (DESIGN §6, §12).

import { Definition, Json, JsonObject } from "./model/types";

export interface Automation extends Definition {
  id: string;
  version: number;
  status: string;
  environment: string;
  shadows_id?: string | null;
  created_at: string;
  updated_at: string;
  definition: Definition;
  warnings?: import("./model/types").Diagnostic[];
}

export interface Effect {
  kind: string;
  applied: boolean;
  id?: string | null;
  detail?: Json;
}

export interface StepRun {
  id: string;
  type: string;
  status: string;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  input?: Json;
  output?: Json;
  error?: string | null;
  effects: Effect[];
}

export interface Run {
  id: string;
  automation_id: string;
  version: number;
  event_id: string;
  record?: { object: string; id: string } | null;
  status: string;
  dry_run: boolean;
  error?: string | null;
  error_code?: string | null;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  steps: StepRun[];
}

export interface Task {
  id: string;
  run_id: string;
  automation_id: string;
  step_id: string;
  title: string;
  assignee?: string | null;
  queue?: string | null;
  form: JsonObject;
  status: string;
  output?: Json;
  due_at?: string | null;
  timeout_at?: string | null;
  dry_run: boolean;
  created_at: string;
  completed_at?: string | null;
}

export interface Version {
  automation_id: string;
  version: number;
  status: string;
  environment: string;
  created_at: string;
  definition: Definition;
}

export interface TestReport {
  matched: boolean;
  explanation: Json;
  run: Run | null;
}
