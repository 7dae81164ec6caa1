import { useId, useRef, useState } from "react";
import { useCatalog } from "../schema";

/**
 * `Action type` + `Add action`. Choosing a type and clicking Add action adds it; clicking
 * Add action first focuses the chooser and the next choice adds the action at once.
 */
export function AddAction({ onAdd, extra = [] }: { onAdd: (type: string) => void; extra?: { value: string; label: string }[] }) {
  const { schema } = useCatalog();
  const id = useId();
  const [type, setType] = useState("");
  const [armed, setArmed] = useState(false);
  const select = useRef<HTMLSelectElement>(null);

  const add = (t: string) => {
    onAdd(t);
    setType("");
    setArmed(false);
  };

  return (
    <div className="add-action">
      <label htmlFor={id}>Action type</label>
      <select
        id={id}
        ref={select}
        value={type}
        onChange={(e) => {
          const t = e.target.value;
          if (armed && t) add(t);
          else setType(t);
        }}
      >
        <option value="">{armed ? "Choose the action to add…" : "Choose…"}</option>
        {schema.actions.map((a) => (
          <option key={a.name} value={a.name} title={a.description}>
            {a.name}
          </option>
        ))}
        {extra.map((x) => (
          <option key={x.value} value={x.value}>
            {x.label}
          </option>
        ))}
      </select>
      <button
        type="button"
        onClick={() => {
          if (type) add(type);
          else {
            setArmed(true);
            select.current?.focus();
          }
        }}
      >
        Add action
      </button>
      {armed && (
        <span className="hint" role="status">
          Choose the action type to add.
        </span>
      )}
    </div>
  );
}
