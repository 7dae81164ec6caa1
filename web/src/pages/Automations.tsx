import { useEffect, useState } from "react";
import { Page, get } from "../api";
import { ErrorBox, Loading, MoreButton, StatusBadge, Time, DryRunBadge, usePaged } from "../components/common";
import { Link, navigate } from "../router";
import { Automation, Run } from "../types";

const STATUSES = ["draft", "active", "paused", "archived"];

/** The start page: every automation of the workspace, newest first. */
export function AutomationsPage() {
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const list = usePaged<Automation>("/automations", { status });
  const needle = search.trim().toLowerCase();
  const shown = list.items.filter((a) => !needle || a.name.toLowerCase().includes(needle));

  return (
    <>
      <div className="page-head">
        <h1>Automations</h1>
        <button type="button" onClick={() => navigate("/automations/new")}>
          New Automation
        </button>
      </div>
      <div className="toolbar" role="search">
        <label>
          <span>Search by name</span>
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name contains…" />
        </label>
        <label>
          <span>Status filter</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s[0].toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={list.error} retry={() => list.reload()} />
      {list.loading && list.items.length === 0 ? (
        <Loading what="automations" />
      ) : (
        <div className="table-wrap">
          <table className="list">
            <caption className="sr-only">Automations</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Trigger event</th>
                <th scope="col">Status</th>
                <th scope="col">Environment</th>
                <th scope="col">Last run</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((a) => (
                <tr key={a.id}>
                  <td data-label="Name">
                    <Link to={`/automations/${a.id}`}>{a.name}</Link>
                    {a.description && <div className="muted small">{a.description}</div>}
                  </td>
                  <td data-label="Trigger event">
                    <code>{a.trigger?.event}</code>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={a.status} />
                  </td>
                  <td data-label="Environment">{a.environment}</td>
                  <td data-label="Last run">
                    <LastRun id={a.id} />
                  </td>
                </tr>
              ))}
              {shown.length === 0 && !list.loading && (
                <tr>
                  <td colSpan={5} className="empty">
                    {list.items.length === 0 ? (
                      <>
                        No automations yet. Click <strong>New Automation</strong> to create the first one.
                      </>
                    ) : (
                      "No automation matches the search."
                    )}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton hasMore={list.hasMore} loading={list.loading} onClick={list.loadMore} />
    </>
  );
}

function LastRun({ id }: { id: string }) {
  const [run, setRun] = useState<Run | null | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    get<Page<Run>>(`/automations/${encodeURIComponent(id)}/runs?limit=1`).then(
      (page) => live && setRun(page.items[0] ?? null),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [id]);
  if (failed) return <span className="muted">unavailable</span>;
  if (run === undefined) return <span className="muted">…</span>;
  if (run === null) return <span className="muted">never</span>;
  return (
    <span className="last-run">
      <StatusBadge status={run.status} /> {run.dry_run && <DryRunBadge />} <Time at={run.started_at ?? run.created_at} />
    </span>
  );
}
