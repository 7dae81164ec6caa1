import { FormEvent, useState } from "react";
import { describeError, request } from "../api";

/** Sign-in with an API token (the admin token `automations serve` printed, or any token). */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string) => void; notice?: string }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setError("Enter the API token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await request("/schema", { token: value });
      onSignedIn(value);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form onSubmit={submit} className="card" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Automations</h1>
        <p className="muted">
          Use the admin token <code>automations serve</code> printed at its first start, or a token from{" "}
          <code>automations token create</code>.
        </p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input id="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
