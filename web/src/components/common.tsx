// Small shared pieces: loading and error states, badges, times, paged lists.

import { ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { Page, describeError, get, withQuery } from "../api";

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <span>{describeError(error)}</span>
      {retry && (
        <button type="button" className="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function DryRunBadge() {
  return (
    <span className="badge dry-run" title="Effects were recorded, not applied">
      dry-run
    </span>
  );
}

export function Time({ at }: { at?: string | null }) {
  if (!at) return <span className="muted">—</span>;
  const d = new Date(at);
  return (
    <time dateTime={at} title={d.toISOString()}>
      {d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" })}
    </time>
  );
}

export function duration(ms?: number | null): string {
  if (ms === undefined || ms === null) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  // No aria-labelledby: a section named "Sandbox automations" would also answer to the
  // label "Sandbox" and hide the switch of that name from label look-ups.
  return (
    <section className="card">
      <div className="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/**
 * A list read page by page with the API's cursors. `query` changes start over; `reload`
 * refetches what is shown (the first page, plus as many items as were loaded).
 */
export function usePaged<T>(path: string | null, query: Record<string, string | number | boolean | undefined>, pageSize = 25) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = path === null ? null : withQuery(path, { ...query, limit: pageSize });
  const seq = useRef(0);

  const load = useCallback(
    async (more: boolean, quiet = false) => {
      if (key === null) return;
      const mine = ++seq.current;
      if (!quiet) setLoading(true);
      try {
        const url = more && cursor ? `${key}&cursor=${encodeURIComponent(cursor)}` : key;
        const page = await get<Page<T>>(url);
        if (mine !== seq.current) return;
        setItems((prev) => (more ? [...prev, ...page.items] : page.items));
        setCursor(page.next_cursor);
        setError(null);
      } catch (e) {
        if (mine === seq.current) setError(e);
      } finally {
        if (mine === seq.current) setLoading(false);
      }
    },
    [key, cursor],
  );

  useEffect(() => {
    setItems([]);
    setCursor(null);
    void load(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return {
    items,
    loading,
    error,
    hasMore: cursor !== null,
    loadMore: () => load(true),
    reload: (quiet = false) => load(false, quiet),
    setItems,
  };
}

export function MoreButton({ hasMore, loading, onClick }: { hasMore: boolean; loading: boolean; onClick: () => void }) {
  if (!hasMore) return null;
  return (
    <button type="button" className="secondary more" onClick={onClick} disabled={loading}>
      {loading ? "Loading…" : "Load more"}
    </button>
  );
}

/** Calls `fn` every `ms` while the page is visible. */
export function useInterval(fn: () => void, ms: number | null) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === "visible") saved.current();
    }, ms);
    return () => window.clearInterval(id);
  }, [ms]);
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  if (value === undefined || value === null) return <span className="muted">—</span>;
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
