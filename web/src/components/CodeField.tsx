// A text field with diagnostics drawn at their place: a mirror layer behind the textarea
// underlines each diagnostic's range; the list below gives code, message, position and the
// did-you-mean suggestion as a button that applies it.

import { ReactElement, useId, useRef } from "react";
import { Diagnostic } from "../model/types";
import { TextRange, applyAt } from "../model/validation";

export interface Located {
  diagnostic: Diagnostic;
  range: TextRange | null;
}

export function CodeField({
  label,
  value,
  onChange,
  located,
  rows = 2,
  checking,
  placeholder,
  hint,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  located: Located[];
  rows?: number;
  checking?: boolean;
  placeholder?: string;
  hint?: string;
}) {
  const id = useId();
  const mirror = useRef<HTMLDivElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const marks = located.filter((l) => l.range).sort((a, b) => a.range!.start - b.range!.start);
  const errors = located.filter((l) => l.diagnostic.severity === "error").length;

  // The mirror holds the same text with <mark>s; it scrolls with the textarea.
  const parts: ReactElement[] = [];
  let at = 0;
  marks.forEach((m, i) => {
    const start = Math.max(m.range!.start, at);
    const end = Math.max(m.range!.end, start + 1);
    parts.push(<span key={`t${i}`}>{value.slice(at, start)}</span>);
    parts.push(
      <mark key={`m${i}`} className={m.diagnostic.severity}>
        {value.slice(start, end) || " "}
      </mark>,
    );
    at = Math.min(end, value.length);
  });
  parts.push(<span key="rest">{value.slice(at)}</span>);

  const apply = (l: Located) => {
    if (!l.range || l.diagnostic.suggestion == null) return;
    onChange(applyAt(value, l.range, l.diagnostic.suggestion));
    area.current?.focus();
  };

  return (
    <div className="code-field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <div className="code-wrap">
        <div className="code-mirror" aria-hidden="true" ref={mirror}>
          {parts}
          {"\n"}
        </div>
        <textarea
          id={id}
          ref={area}
          rows={rows}
          value={value}
          spellCheck={false}
          placeholder={placeholder}
          aria-invalid={errors > 0}
          aria-describedby={`${id}-diags${hint ? ` ${id}-hint` : ""}`}
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => {
            if (mirror.current) {
              mirror.current.scrollTop = e.currentTarget.scrollTop;
              mirror.current.scrollLeft = e.currentTarget.scrollLeft;
            }
          }}
        />
      </div>
      <div id={`${id}-diags`} className="diagnostics" aria-live="polite">
        {checking && <span className="muted small">Checking…</span>}
        {located.length > 0 && (
          <ul aria-label="Problems">
            {located.map((l, i) => (
              <DiagnosticLine key={i} d={l.diagnostic} onApply={l.range && l.diagnostic.suggestion != null ? () => apply(l) : undefined} />
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

export function DiagnosticLine({ d, onApply }: { d: Diagnostic; onApply?: () => void }) {
  const where = d.line !== undefined ? `${d.line}:${d.column}` : d.pointer ? d.pointer : "";
  return (
    <li className={`diagnostic ${d.severity}`}>
      <span className="code">{d.code}</span> <span className="sev">{d.severity}</span> <span className="message">{d.message}</span>
      {where && <span className="muted small"> at {where}</span>}
      {d.suggestion != null && (
        <span className="suggestion">
          {" "}
          Did you mean{" "}
          {onApply ? (
            <button type="button" className="apply" onClick={onApply} title="Apply the suggestion">
              {d.suggestion}
            </button>
          ) : (
            <code>{d.suggestion}</code>
          )}
          ?
        </span>
      )}
      {d.notes?.map((n, i) => (
        <div key={i} className="note muted small">
          note: {n}
        </div>
      ))}
    </li>
  );
}

/** Diagnostics of a list outside any field (the definition as a whole). */
export function DiagnosticList({ items, label }: { items: Diagnostic[]; label: string }) {
  if (items.length === 0) return null;
  return (
    <ul className="diagnostics" aria-label="Problems" data-list={label}>
      {items.map((d, i) => (
        <DiagnosticLine key={i} d={d} />
      ))}
    </ul>
  );
}
