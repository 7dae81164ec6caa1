import { ErrorBox, Loading, MoreButton, usePaged } from "../components/common";
import { PluginInfo } from "../schema";

/** The workspace's plugins: versions, what they ask for and what an admin granted. */
export function PluginsPage() {
  const plugins = usePaged<PluginInfo>("/plugins", {});
  return (
    <>
      <div className="page-head">
        <h1>Plugins</h1>
      </div>
      <p className="muted">
        Custom actions are WebAssembly components, uploaded with <code>POST /api/v1/plugins</code>. A plugin step runs the version it names, or the
        highest one.
      </p>
      <ErrorBox error={plugins.error} retry={() => void plugins.reload()} />
      {plugins.loading && plugins.items.length === 0 ? (
        <Loading what="plugins" />
      ) : plugins.items.length === 0 ? (
        <p className="muted empty">No plugins uploaded in this workspace.</p>
      ) : (
        <div className="table-wrap">
          <table className="list">
            <caption className="sr-only">Plugins</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Versions</th>
                <th scope="col">Requested</th>
                <th scope="col">Granted</th>
              </tr>
            </thead>
            <tbody>
              {plugins.items.map((p) => (
                <tr key={p.name}>
                  <td data-label="Name">
                    <strong>{p.name}</strong>
                    <div className="muted small">{p.description}</div>
                  </td>
                  <td data-label="Versions">{p.versions.join(", ")}</td>
                  <td data-label="Requested">{p.requested.map((c) => <code key={c} className="cap">{c}</code>)}</td>
                  <td data-label="Granted">{p.granted.length ? p.granted.map((c) => <code key={c} className="cap">{c}</code>) : <span className="muted">none</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton hasMore={plugins.hasMore} loading={plugins.loading} onClick={plugins.loadMore} />
    </>
  );
}
