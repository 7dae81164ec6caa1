import { useCallback, useEffect, useState } from "react";
import { getToken, onUnauthorized, setToken } from "./api";
import { ErrorBox, Loading } from "./components/common";
import { Link, match, navigate, usePath } from "./router";
import { Catalog, CatalogContext, loadCatalog } from "./schema";
import { AutomationsPage } from "./pages/Automations";
import { Detail } from "./pages/Detail";
import { Editor } from "./pages/Editor";
import { PluginsPage } from "./pages/Plugins";
import { RecordLogPage } from "./pages/RecordLog";
import { SandboxPage } from "./pages/Sandbox";
import { SignIn } from "./pages/SignIn";
import { TasksPage } from "./pages/Tasks";

/** `/?token=...` signs in and takes the token out of the address bar (and history). */
function takeTokenFromUrl() {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  if (token === null) return;
  if (token) setToken(token);
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
}
takeTokenFromUrl();

const NAV = [
  { to: "/", label: "Automations", active: (p: string) => p === "/" || p.startsWith("/automations") },
  { to: "/tasks", label: "Tasks", active: (p: string) => p.startsWith("/tasks") },
  { to: "/sandbox", label: "Sandbox", active: (p: string) => p.startsWith("/sandbox") },
  { to: "/plugins", label: "Plugins", active: (p: string) => p.startsWith("/plugins") },
];

export function App() {
  const [token, setTokenState] = useState(getToken());
  const [notice, setNotice] = useState<string | undefined>();
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [catalogError, setCatalogError] = useState<unknown>(null);
  const path = usePath();

  const signOut = useCallback((message?: string) => {
    setToken(null);
    setTokenState(null);
    setCatalog(null);
    setNotice(message);
  }, []);

  useEffect(() => onUnauthorized(() => signOut("The token was refused (401). Sign in again.")), [signOut]);

  const fetchCatalog = useCallback(() => {
    setCatalogError(null);
    loadCatalog().then(setCatalog, setCatalogError);
  }, []);

  useEffect(() => {
    if (token) fetchCatalog();
  }, [token, fetchCatalog]);

  if (!token) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          setToken(t);
          setNotice(undefined);
          setTokenState(t);
        }}
      />
    );
  }

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand" aria-hidden="true">
          ⚙ automations
        </span>
        <nav aria-label="Main navigation">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={item.active(path) ? "page" : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="secondary small" onClick={() => signOut("Signed out.")}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {catalogError ? (
          <ErrorBox error={catalogError} retry={fetchCatalog} />
        ) : !catalog ? (
          <Loading what="the workspace schema" />
        ) : (
          <CatalogContext.Provider value={catalog}>
            <Route path={path} />
          </CatalogContext.Provider>
        )}
      </main>
    </div>
  );
}

function Route({ path }: { path: string }) {
  if (path === "/" || path === "/automations") return <AutomationsPage />;
  if (path === "/automations/new") return <Editor key="new" id={null} />;
  let m = match("/automations/:id/edit", path);
  if (m) return <Editor key={m.id} id={m.id} />;
  m = match("/automations/:id", path);
  if (m) return <Detail key={m.id} id={m.id} />;
  m = match("/records/:object/:id", path);
  if (m) return <RecordLogPage key={`${m.object}/${m.id}`} object={m.object} id={m.id} />;
  if (path === "/tasks") return <TasksPage />;
  if (path === "/sandbox") return <SandboxPage />;
  if (path === "/plugins") return <PluginsPage />;
  return (
    <div className="card">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>.{" "}
        <button type="button" className="link" onClick={() => navigate("/")}>
          Back to Automations
        </button>
      </p>
    </div>
  );
}
