// The scenario document (scenarist_engine.model.scenario) and the REST API's shapes.

export interface Condition {
  a?: unknown;
  o: string;
  b?: unknown;
}

export interface Filter {
  name?: string | null;
  conditions: Condition[][];
}

export interface Route {
  label?: string | null;
  fallback?: boolean;
  flow: ModuleDoc[];
}

export interface ModuleDoc {
  id: number;
  module: string;
  version?: number;
  label?: string | null;
  parameters?: Record<string, unknown>;
  mapper?: Record<string, unknown>;
  filter?: Filter | null;
  flags?: Record<string, unknown>;
  retry?: Record<string, unknown> | null;
  onerror?: ModuleDoc[];
  routes?: Route[];
  metadata?: Record<string, unknown>;
}

export interface ScenarioDoc {
  name: string;
  description?: string | null;
  settings?: Record<string, unknown>;
  flow: ModuleDoc[];
  metadata?: Record<string, unknown>;
}

export interface RunView {
  id: string;
  scenario_id: string;
  scenario_version: number;
  status: string;
  operations: number;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  error: { type: string; message: string } | null;
  response: unknown;
  trigger_source: string;
}

export interface ScenarioView {
  id: string;
  name: string;
  version: number;
  active: boolean;
  created_at: string | null;
  updated_at: string | null;
  document?: ScenarioDoc | null;
  document_text?: string;
  last_run?: RunView | null;
}

export interface StepView {
  module_id: number;
  module: string;
  attempt: number;
  cycle: number;
  input: unknown;
  output: unknown;
  error: { type: string; message: string } | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface FieldSpec {
  name: string;
  label: string;
  type: string;
  required: boolean;
  options: { value: unknown; label: string }[];
  help: string;
  default: unknown;
  fields: FieldSpec[];
  multiple: boolean;
  in?: "parameters" | "mapper";
}

export interface ModuleSpec {
  app: string;
  name: string;
  id: string;
  label: string;
  description: string;
  kind: string;
  inputs: FieldSpec[];
  outputs: FieldSpec[];
  connection_required: boolean;
}

export interface AppSpec {
  name: string;
  label: string;
  description: string;
  needs_connection: boolean;
  connection_types: string[];
}

export interface ConnectionView {
  id: string;
  app: string;
  type: string;
  name: string;
  parameters: Record<string, string>;
  secret_fields: string[];
  created_at: string | null;
}

export interface ScheduleView {
  id: string;
  name: string;
  kind: string;
  interval_minutes: number;
  once_at: string;
  time: string;
  days: number[];
  dates: string[];
  cron: string;
  time_zone: string;
  start_at: string | null;
  end_at: string | null;
  paused: boolean;
  next_due_at: string | null;
  last_fired_at: string | null;
  last_error: string;
  max_runs_per_minute: number;
  polling: boolean;
  poll: PollView | null;
}

export interface PollView {
  app: string;
  module: string;
  inputs: Record<string, unknown>;
  connection_id: string;
  max_items: number;
}

export interface IncompleteView {
  id: string;
  run_id: string;
  task_id: string;
  scenario_version: number;
  module_id: number;
  module: string;
  error: { type: string; message: string };
  attempts: number;
  bundle: unknown;
  confidential: boolean;
  status: "open" | "retried" | "resolved";
  created_at: string | null;
  retry_run_id: string | null;
  closed_at: string | null;
}

export interface StructureField {
  name: string;
  type: string;
  required: boolean;
  multiple: boolean;
  fields: StructureField[];
}

export interface FunctionSpec {
  name: string;
  signature: string;
  category: string;
  description: string;
}

export interface OperatorSpec {
  code: string;
  label: string;
  unary: boolean;
}

export interface Me {
  user: { id: string; email: string; role: string; organization_id: string };
  role: "owner" | "editor" | "viewer";
  csrf: string | null;
}

export const FINAL_STATUSES = new Set(["success", "warning", "error", "cancelled"]);
