// A record's automation log: for each recent event on it, every automation of the
// event's trigger and why it ran or not (GET /records/{object}/{id}/automation-log).

import { ErrorBox, Loading, MoreButton, Section, usePaged } from "../components/common";
import { ExplanationView } from "../components/Explanation";
import { LogEntry, outcomeText } from "../model/insight";
import { Link } from "../router";

export function RecordLogPage({ object, id }: { object: string; id: string }) {
  const log = usePaged<LogEntry>(`/records/${encodeURIComponent(object)}/${encodeURIComponent(id)}/automation-log`, {}, 20);
  return (
    <>
      <div className="page-head">
        <h1>
          Automations on {object} <code>{id}</code>
        </h1>
      </div>
      <p className="muted">For each recent event on this record: which automations were considered, and why each ran or did not.</p>
      <Section title="Automation log">
        <ErrorBox error={log.error} retry={() => void log.reload()} />
        {log.loading && log.items.length === 0 ? (
          <Loading what="the automation log" />
        ) : log.items.length === 0 ? (
          <p className="muted empty">No automation was considered for an event on this record yet.</p>
        ) : (
          <ol className="automation-log" aria-label="Automation log">
            {log.items.map((e) => (
              <li key={e.event_id} className="card">
                <p>
                  <code>{e.event_type}</code> <span className="muted">{new Date(e.created_at).toLocaleString()}</span>
                  {e.depth > 0 && <span className="muted"> (written by an automation, depth {e.depth})</span>}
                </p>
                <ul>
                  {e.automations.map((c) => (
                    <li key={c.automation_id} className={`outcome-${c.outcome}`}>
                      <Link to={`/automations/${c.automation_id}`}>{c.name}</Link> <span className="muted">v{c.version}</span>: {outcomeText(c)}
                      {c.outcome === "not_matched" && c.explanation && (
                        <details>
                          <summary>Explanation</summary>
                          <ExplanationView value={c.explanation as never} />
                        </details>
                      )}
                    </li>
                  ))}
                </ul>
                {e.not_listed > 0 && <p className="muted">… and {e.not_listed} more automations whose condition did not hold.</p>}
              </li>
            ))}
          </ol>
        )}
        <MoreButton hasMore={log.hasMore} loading={log.loading} onClick={log.loadMore} />
      </Section>
    </>
  );
}
