// The admin API client: fetch with the session's bearer token, the error envelope as ApiError,
// and the session-wide reactions to 401 (sign out) and 403 on a write (read-only token).
import { state } from "./state.js";

// This module is served at <mount>/assets/api.js: the API lives under <mount>/v1 wherever the
// handler is mounted (its own server, or an Express/Fastify prefix).
export const BASE = new URL("../", import.meta.url);

const hooks = { unauthorized: () => {}, forbidden: () => {} };

/** Sets what a 401 (for the session's token) and a 403 (on a write) do. */
export function onAuthFailure({ unauthorized, forbidden }) {
  hooks.unauthorized = unauthorized;
  hooks.forbidden = forbidden;
}

/** The API's error envelope (`{ error: { code, message, requestId } }`) as an Error. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code ?? "HTTP";
    this.requestId = error.requestId;
  }
}

/** Calls the API with the session's token; a 401 ends the session and brings the form back. */
export async function api(path, { method = "GET", body, token = state.token, signal } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  const init = { method, headers, cache: "no-store", signal: signal ?? state.session?.signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(new URL(path, BASE), init);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && token === state.token) hooks.unauthorized();
    if (response.status === 403 && method !== "GET") hooks.forbidden();
    throw error;
  }
  return data;
}

/** `?key=value&…` of the params that have a value, or "". */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Whether `error` is a request the page itself gave up on (signed out, navigated away). */
export function isAbort(error) {
  return error?.name === "AbortError" || state.session?.signal.aborted;
}
