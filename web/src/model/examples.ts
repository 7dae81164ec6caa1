// Test helper: every automation definition under `examples/` (JSON twins of the .auto files).

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Definition } from "./types";

const DIR = join(__dirname, "..", "..", "..", "examples");

export function exampleDefinitions(): { file: string; def: Definition }[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith(".json"))
    .map((file) => ({ file, value: JSON.parse(readFileSync(join(DIR, file), "utf8")) }))
    .flatMap(({ file, value }) => (Array.isArray(value) ? value : [value]).map((def) => ({ file, def })))
    .filter(({ def }) => def && typeof def === "object" && "trigger" in def && "actions" in def);
}
