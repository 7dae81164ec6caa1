import { useId, useState } from "react";
import { useCatalog } from "../schema";

const CUSTOM = "__custom__";

/** `Trigger event`: every object's events from the schema, the custom events, or a new one. */
export function TriggerPicker({ value, onChange }: { value: string; onChange: (event: string) => void }) {
  const { schema } = useCatalog();
  const id = useId();
  const known = new Set([...Object.values(schema.events).flat(), ...schema.custom_events]);
  const [custom, setCustom] = useState(value !== "" && !known.has(value));
  const selectValue = custom ? CUSTOM : value;

  return (
    <div className="field">
      <label htmlFor={id}>Trigger event</label>
      <select
        id={id}
        value={selectValue}
        required
        onChange={(e) => {
          if (e.target.value === CUSTOM) {
            setCustom(true);
            if (!value.startsWith("custom.")) onChange("custom.");
          } else {
            setCustom(false);
            onChange(e.target.value);
          }
        }}
      >
        <option value="">Choose an event…</option>
        {Object.entries(schema.events).map(([object, events]) => (
          <optgroup key={object} label={object}>
            {events.map((event) => (
              <option key={event} value={event}>
                {event}
              </option>
            ))}
          </optgroup>
        ))}
        <optgroup label="custom">
          {schema.custom_events.map((event) => (
            <option key={event} value={event}>
              {event}
            </option>
          ))}
          <option value={CUSTOM}>Another custom event…</option>
        </optgroup>
      </select>
      {custom && (
        <>
          <label htmlFor={`${id}-custom`}>Custom event</label>
          <input id={`${id}-custom`} value={value} placeholder="custom.signup" onChange={(e) => onChange(e.target.value)} />
        </>
      )}
    </div>
  );
}
