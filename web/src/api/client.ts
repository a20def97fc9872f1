import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { ProblemError, toProblem } from "../lib/problem";

/**
 * The typed client of the API, generated from the OpenAPI snapshot (web/openapi.json -> src/api/schema.d.ts).
 * The access token lives only in this module's memory; the refresh token is an HttpOnly cookie the page cannot read (ADR 0590).
 */
let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(signedIn: boolean) => void>();

export function setAccessToken(token: string | null) {
  accessToken = token;
  listeners.forEach((l) => l(token !== null));
}

export function onSessionChange(listener: (signedIn: boolean) => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Trades the refresh cookie for a new access token; one refresh at a time however many calls ask. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch("/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
    credentials: "same-origin",
  })
    .then(async (r) => {
      if (!r.ok) {
        setAccessToken(null);
        return false;
      }
      const body = (await r.json()) as { access_token: string };
      setAccessToken(body.access_token);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

const bearer: Middleware = {
  onRequest({ request }) {
    if (accessToken && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${accessToken}`);
    return request;
  },
  async onResponse({ request, response }) {
    // An expired access token is renewed once from the cookie and the call repeated; a second 401 is final.
    if (response.status !== 401 || request.url.includes("/v1/auth/") || request.headers.get("X-Retried")) return response;
    if (!(await refreshSession()) || !accessToken) return response;
    const retry = new Request(request, { headers: new Headers(request.headers) });
    retry.headers.set("Authorization", `Bearer ${accessToken}`);
    retry.headers.set("X-Retried", "1");
    return fetch(retry);
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(bearer);

/** Unwraps an openapi-fetch answer: the data, or a ProblemError carrying the API's problem details. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw new ProblemError(toProblem(result.error, result.response.status));
  return result.data as T;
}
