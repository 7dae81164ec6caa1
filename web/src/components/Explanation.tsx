// Why a condition was true or false, as the evaluator explains it: the deciding clauses
// with the values they saw (compiler/src/eval/explain.rs).

import { Json } from "../model/types";

interface Clause {
  text: string;
  result: boolean;
  values: { field: string; value: Json }[];
}

interface Explanation {
  result: boolean;
  decision: string;
  clauses: Clause[];
  /** Clauses the server left out of a long list (at most 20 are listed). */
  more_clauses?: number;
}

const DECISIONS: Record<string, string> = {
  all_true: "every clause was true",
  first_false: "this clause was false",
  first_true: "this clause was true",
  all_false: "no clause was true",
  single: "the condition is one clause",
};

function isExplanation(value: unknown): value is Explanation {
  const e = value as Explanation;
  return !!e && typeof e === "object" && typeof e.result === "boolean" && Array.isArray(e.clauses);
}

export function ExplanationView({ value }: { value: Json | undefined }) {
  if (value === null || value === undefined) return <p className="muted">No condition: every event matches.</p>;
  if (!isExplanation(value)) return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
  return (
    <div className="explanation" aria-label="Why it matched or not">
      <p>
        Condition was <strong>{String(value.result)}</strong>: {DECISIONS[value.decision] ?? value.decision}.
      </p>
      <ul>
        {value.clauses.map((c, i) => (
          <li key={i} className={c.result ? "clause-true" : "clause-false"}>
            <span aria-hidden="true">{c.result ? "✓" : "✗"}</span> <code>{c.text}</code> was {String(c.result)}
            {c.values.length > 0 && (
              <span className="muted">
                {" "}
                ({c.values.map((v) => `${v.field} = ${JSON.stringify(v.value)}`).join(", ")})
              </span>
            )}
          </li>
        ))}
      </ul>
      {(value.more_clauses ?? 0) > 0 && <p className="muted">… and {value.more_clauses} more clauses.</p>}
    </div>
  );
}
