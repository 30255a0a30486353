// The one way pages talk to the API: same origin, the session cookie, JSON in and out,
// and errors as ApiError with the API's own code and sentence. A 401 means the session
// has ended: listeners of "pl:signed-out" show the sign-in screen.

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field ?? null;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "The server could not be reached. Check the connection and try again.");
  }
  const type = response.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const error = (data && data.error) || {};
    if (response.status === 401 && !path.endsWith("/sessions")) {
      window.dispatchEvent(new CustomEvent("pl:signed-out"));
    }
    throw new ApiError(response.status, error.code ?? "error", error.message ?? `The server answered ${response.status}.`, error.field);
  }
  return data;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  return search.toString();
}

/** Every page of a list endpoint (`{data, next}`), up to `max` rows. */
export async function all(path, max = 5000) {
  const rows = [];
  let next = path;
  while (next && rows.length < max) {
    const page = await api(next);
    rows.push(...page.data);
    next = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
  }
  return rows;
}
