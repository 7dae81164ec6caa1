// The body the editor validates, and where each diagnostic belongs in the editor.
//
// The condition is sent as the text the user typed (never as an equality map), at a known
// place of a one-line JSON body, so a diagnostic's column maps back into the condition.

import { Definition, Diagnostic } from "./types";
import { ListPath, StepLoc } from "./definition";

export interface ValidationBody {
  text: string;
  /** Character offset of the condition string's opening quote, or -1. */
  conditionAt: number;
  conditionRaw: string;
}

export function validationBody(def: Definition, conditionText: string): ValidationBody {
  const { trigger, ...rest } = def;
  const head = `{"trigger":{"event":${JSON.stringify(trigger.event ?? "")}`;
  const hasCondition = conditionText.trim() !== "";
  const conditionRaw = hasCondition ? JSON.stringify(conditionText) : "";
  const condPart = hasCondition ? `,"conditions":` : "";
  const tail = JSON.stringify(rest);
  const text = `${head}${condPart}${conditionRaw}}${tail === "{}" ? "}" : `,${tail.slice(1)}`}`;
  const conditionAt = hasCondition ? [...(head + condPart)].length : -1;
  return { text, conditionAt, conditionRaw };
}

/** A range inside the condition text (UTF-16 offsets, end exclusive). */
export interface TextRange {
  start: number;
  end: number;
}

/**
 * Where a diagnostic of the validated body falls inside the condition text, or null when
 * it is not about the condition (or has no position).
 */
export function conditionRange(body: ValidationBody, d: Diagnostic): TextRange | null {
  if (body.conditionAt < 0 || !d.pointer?.startsWith("/trigger/conditions")) return null;
  if (d.line !== 1 || d.column === undefined) return null;
  const raw = [...body.conditionRaw.slice(1, -1)];
  // Columns count characters (code points) from 1; the string's content starts one past the quote.
  const rawStart = d.column - 1 - body.conditionAt - 1;
  const rawEnd = (d.end_line === 1 && d.end_column !== undefined ? d.end_column : d.column) - 1 - body.conditionAt - 1;
  const decode = (rawIndex: number): number => {
    let decoded = 0;
    let i = 0;
    while (i < Math.min(rawIndex, raw.length)) {
      if (raw[i] === "\\") {
        i += raw[i + 1] === "u" ? 6 : 2;
        decoded += 1;
      } else {
        decoded += raw[i].length; // UTF-16 length of the code point
        i += 1;
      }
    }
    return decoded;
  };
  if (rawStart < 0) return null;
  const start = decode(rawStart);
  const end = Math.max(start, decode(rawEnd));
  return { start, end };
}

/** Offsets in a multi-line text of a 1-based line/column range (columns count code points). */
export function lineRange(text: string, d: Diagnostic): TextRange | null {
  if (d.line === undefined || d.column === undefined) return null;
  const offset = (line: number, column: number) => {
    const lines = text.split("\n");
    let at = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) at += lines[i].length + 1;
    const lineText = lines[line - 1] ?? "";
    const chars = [...lineText].slice(0, column - 1).join("");
    return at + chars.length;
  };
  const start = offset(d.line, d.column);
  const end = d.end_line !== undefined && d.end_column !== undefined ? offset(d.end_line, d.end_column) : start;
  return { start, end: Math.max(start, end) };
}

export function stepPointer(loc: StepLoc): string {
  return `/actions${listPointer(loc.list)}/${loc.index}`;
}

function listPointer(list: ListPath): string {
  return list.map((seg) => `/${seg}`).join("");
}

/** Diagnostics whose pointer is `pointer` or inside it. */
export function under(diagnostics: Diagnostic[], pointer: string, exact = false): Diagnostic[] {
  return diagnostics.filter((d) => d.pointer === pointer || (!exact && d.pointer?.startsWith(`${pointer}/`)));
}

/** Replaces `range` of `text` with `replacement`. */
export function applyAt(text: string, range: TextRange, replacement: string): string {
  return text.slice(0, range.start) + replacement + text.slice(range.end);
}
