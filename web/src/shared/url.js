// Every view's state lives in the URL's query string, so a reload or a shared link opens
// the same view. Components read it with useUrlState and change it with setUrlState.
import { useEffect, useState } from "preact/hooks";

function read() {
  return Object.fromEntries(new URLSearchParams(window.location.search));
}

/** Changes the query string: `null` removes a key. `push` adds a history entry. */
export function setUrlState(changes, { push = true } = {}) {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  const url = `${window.location.pathname}${params.size ? `?${params}` : ""}`;
  if (push) window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
  window.dispatchEvent(new Event("pl:url"));
}

export function useUrlState() {
  const [state, setState] = useState(read);
  useEffect(() => {
    const update = () => setState(read());
    window.addEventListener("popstate", update);
    window.addEventListener("pl:url", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("pl:url", update);
    };
  }, []);
  return state;
}
