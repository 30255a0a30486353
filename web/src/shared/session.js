// Signing in and out. The key is sent once, in the sign-in body; the server answers with
// an HttpOnly session cookie that scripts never see. A partner's sign-in link carries its
// token in the URL fragment (never sent to a server), which is removed at once.
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { api } from "./api.js";

export async function signIn(key) {
  return api("/api/v1/sessions", { method: "POST", body: { key } });
}

export async function signOut() {
  try {
    await api("/api/v1/sessions/current", { method: "DELETE" });
  } finally {
    window.location.assign(window.location.pathname);
  }
}

/** The token of a sign-in link (`#token=…`), removed from the address bar. */
export function tokenFromFragment() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
  if (!match) return null;
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return decodeURIComponent(match[1]);
}

/** Who is signed in: undefined while asking, null when nobody. */
export function useSession() {
  const [session, setSession] = useState(undefined);
  useEffect(() => {
    let alive = true;
    const ask = async () => {
      const token = tokenFromFragment();
      if (token) {
        try {
          await signIn(token);
        } catch {
          // The sign-in form says why below.
        }
      }
      try {
        const current = await api("/api/v1/sessions/current");
        if (alive) setSession(current.signed_in ? current : null);
      } catch {
        if (alive) setSession(null);
      }
    };
    ask();
    const ended = () => setSession(null);
    window.addEventListener("pl:signed-out", ended);
    return () => {
      alive = false;
      window.removeEventListener("pl:signed-out", ended);
    };
  }, []);
  return [session, setSession];
}

export function SignIn({ title, what, onSignedIn }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(key.trim()));
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title"><span class="logo" aria-hidden="true"></span>${title}</h1>
      <p>${what}</p>
      <label class="field"><span>Key</span>
        <input type="password" name="key" autocomplete="current-password" required value=${key}
          onInput=${(e) => setKey(e.target.value)} autofocus />
      </label>
      ${error && html`<p class="problem" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy || !key.trim()}>${busy ? "Signing in…" : "Sign in"}</button>
      <p class="muted small">The key is sent once; this browser then keeps only a session cookie that pages cannot read.</p>
    </form>
  </main>`;
}
