// The server's API: JSON in and out, the CSRF token on every change, a refusal as an Error with
// its status, code, reason and field. A 401 once signed in means the session ended.

import { state } from "./state.js";

export const session = { expired: () => {} };  // set by app.js

export async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined,
                                credentials: "same-origin" });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = data.error || {};
    // The session ended (expired, signed out elsewhere): back to the sign-in page, saying why.
    if (r.status === 401 && state.me && path !== "/api/v1/login") session.expired();
    throw Object.assign(new Error(e.message || r.statusText),
                        { status: r.status, code: e.code, reason: e.reason, field: e.field });
  }
  return data;
}
