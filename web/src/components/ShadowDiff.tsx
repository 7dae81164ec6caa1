// The shadow diff of a sandbox copy against the live automation it shadows, shown beside
// Promote (GET /automations/{id}/shadow-diff): the totals and each differing event.

import { useState } from "react";
import { get } from "../api";
import { ErrorBox } from "./common";
import { ShadowDiff, differenceText, totalsText } from "../model/insight";

/** Loads the shadow diff of sandbox automation `id`, page by page. */
export function useShadowDiff(id: string) {
  const [diff, setDiff] = useState<ShadowDiff | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = async (cursor?: string) => {
    setBusy(true);
    setError(null);
    try {
      const page = await get<ShadowDiff>(
        `/automations/${encodeURIComponent(id)}/shadow-diff?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      setDiff((prev) => (cursor && prev ? { ...page, items: [...prev.items, ...page.items] } : page));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { diff, error, busy, load };
}

/** The button that asks for the diff (placed beside Promote). */
export function CompareButton({ name, shadow }: { name: string; shadow: ReturnType<typeof useShadowDiff> }) {
  return (
    <button type="button" className="secondary" onClick={() => void shadow.load()} disabled={shadow.busy} aria-label={`Compare ${name} with live`}>
      {shadow.busy ? "Comparing…" : "Compare with live"}
    </button>
  );
}

/** The totals and each differing event. */
export function ShadowDiffView({ name, shadow }: { name: string; shadow: ReturnType<typeof useShadowDiff> }) {
  const { diff, error, busy, load } = shadow;
  return (
    <div className="shadow-diff">
      <ErrorBox error={error} />
      {diff && (
        <div aria-label={`Shadow diff of ${name}`}>
          <p>
            {totalsText(diff.totals)} since {new Date(diff.since).toLocaleString()}.
            {diff.truncated && " Only the newest 5,000 runs of each were compared."}
          </p>
          <ul>
            {diff.items.map((e) => (
              <li key={e.event_id}>
                <code>
                  {e.object}/{e.record_id}
                </code>{" "}
                <span className="muted">{new Date(e.at).toLocaleString()}</span>
                <ul>
                  {e.differences.map((d, i) => (
                    <li key={i}>{differenceText(d)}</li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
          {diff.next_cursor && (
            <button type="button" className="secondary small" onClick={() => void load(diff.next_cursor ?? undefined)} disabled={busy}>
              More differences
            </button>
          )}
        </div>
      )}
    </div>
  );
}
