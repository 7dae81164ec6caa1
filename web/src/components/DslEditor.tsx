// The DSL view: the canonical `.auto` text of the definition from the server's printer,
// editable, with the compiler's diagnostics at their line and column. An edit that reads
// as an automation becomes the definition the other views show (node positions included:
// the DSL's `layout { ... }` carries them).

import { useEffect, useRef, useState } from "react";
import { ApiError, describeError, request } from "../api";
import { Definition, Diagnostic } from "../model/types";
import { lineRange } from "../model/validation";
import { CodeField, DiagnosticList } from "./CodeField";

interface FormatAnswer {
  dsl: string | null;
  definition: Definition | null;
  diagnostics: Diagnostic[];
}

interface ValidateAnswer {
  valid: boolean;
  diagnostics: Diagnostic[];
  definition: Definition | null;
}

/** JSON with sorted keys: the same definition gives the same text whatever its key order. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

export function DslEditor({ def, setDef }: { def: Definition; setDef: (def: Definition) => void }) {
  const [text, setText] = useState<string | null>(null);
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [problem, setProblem] = useState<{ message: string; diagnostics: Diagnostic[] } | null>(null);
  const [checking, setChecking] = useState(false);
  const fromDsl = useRef<Definition | null>(null);
  const timer = useRef<number | undefined>(undefined);
  const seq = useRef(0);

  // The canonical text of the definition, unless the definition came from this editor.
  const key = stableJson(def);
  useEffect(() => {
    if (fromDsl.current && stableJson(def) === stableJson(fromDsl.current)) return;
    let live = true;
    request<FormatAnswer>("/automations/format", { method: "POST", body: def })
      .then(({ data }) => {
        if (!live) return;
        if (data.dsl === null) {
          // Not readable as an automation yet (no trigger event, a broken template, ...).
          setProblem({ message: "The definition cannot be shown as DSL text yet:", diagnostics: data.diagnostics });
          setText((t) => t ?? "");
          return;
        }
        setText(data.dsl);
        setProblem(null);
        setDiagnostics([]);
      })
      .catch((e) => {
        if (!live) return;
        setProblem({ message: describeError(e), diagnostics: e instanceof ApiError ? e.diagnostics : [] });
        setText((t) => t ?? "");
      });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const edit = (next: string) => {
    setText(next);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(async () => {
      const mine = ++seq.current;
      setChecking(true);
      try {
        const { data } = await request<ValidateAnswer>("/automations/validate", { method: "POST", body: next, text: true });
        if (mine !== seq.current) return;
        setDiagnostics(data.diagnostics);
        setProblem(null);
        if (data.definition) {
          fromDsl.current = data.definition;
          setDef(data.definition);
        }
      } catch (e) {
        if (mine === seq.current) setProblem({ message: describeError(e), diagnostics: e instanceof ApiError ? e.diagnostics : [] });
      } finally {
        if (mine === seq.current) setChecking(false);
      }
    }, 400);
  };

  if (text === null) return <p className="loading" role="status">Loading the DSL text…</p>;
  const located = diagnostics.map((d) => ({ diagnostic: d, range: lineRange(text, d) }));
  return (
    <div className="dsl">
      {problem && (
        <div className="error" role="alert">
          {problem.message}
          <DiagnosticList items={problem.diagnostics} label="DSL problems" />
        </div>
      )}
      <CodeField
        label="DSL"
        value={text}
        onChange={edit}
        located={located}
        rows={Math.max(12, text.split("\n").length + 2)}
        checking={checking}
        hint="The canonical .auto text of this automation, as automations fmt writes it. Edits here change the form and the builder."
      />
    </div>
  );
}
