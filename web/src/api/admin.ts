import { QueryClient } from "@tanstack/react-query";
import createClient, { type Middleware } from "openapi-fetch";
import { createContext } from "react";
import type { components, paths } from "./schema";

/**
 * The operator console's client. Operators have their own tokens (password + TOTP, no refresh token): the token lives in this
 * module's memory only, and a reload or an expiry asks to sign in again.
 */
let operatorToken: string | null = null;
export function setOperatorToken(token: string | null) {
  operatorToken = token;
}
const operatorAuth: Middleware = {
  onRequest({ request }) {
    if (operatorToken) request.headers.set("Authorization", `Bearer ${operatorToken}`);
    return request;
  },
};
/** Holds a message for the next sign-in page (such as "TOTP is on"), however the console gets there after signing the operator out. */
let signInNotice: string | null = null;
export function setSignInNotice(notice: string | null) {
  signInNotice = notice;
}
export function getSignInNotice(): string | null {
  return signInNotice;
}
export const adminApi = createClient<paths>({ baseUrl: "" });
adminApi.use(operatorAuth);
export const adminQueries = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: 5_000 } } });

export type Operator = components["schemas"]["OperatorResponse"];
export type FounderAction = components["schemas"]["FounderActionResponse"];
export const OperatorContext = createContext<{ operator: Operator | null; setOperator(o: Operator | null): void }>({ operator: null, setOperator: () => {} });

const rank: Record<Operator["role"], number> = { viewer: 0, billing: 1, support: 2, super_admin: 3 };
/** Tells whether the operator's role reaches the given one (viewer < billing < support < super_admin, as the API orders them). */
export function operatorMay(role: Operator["role"] | undefined, needs: Operator["role"]): boolean {
  return role !== undefined && rank[role] >= rank[needs];
}
