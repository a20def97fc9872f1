import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, onSessionChange, refreshSession, setAccessToken, unwrap } from "./api/client";

type Status = "restoring" | "signed-in" | "signed-out";

interface Auth {
  status: Status;
  signIn(email: string, password: string): Promise<void>;
  signUp(name: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  /** Trades the SSO callback's one-time code for a session with the HttpOnly refresh cookie, as a password sign-in does. */
  completeSso(code: string): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>("restoring");
  const queries = useQueryClient();

  useEffect(() => {
    const off = onSessionChange((signedIn) => setStatus(signedIn ? "signed-in" : "signed-out"));
    // A reload keeps the session through the HttpOnly refresh cookie: nothing of it is in the page's storage.
    void refreshSession().then((ok) => setStatus(ok ? "signed-in" : "signed-out"));
    return () => void off();
  }, []);

  const signIn = useCallback(async (email: string, password: string) => {
    const body = unwrap(await api.POST("/v1/auth/login", { body: { email, password, refresh_cookie: true } }));
    queries.clear();
    setAccessToken(body.access_token);
  }, [queries]);

  const signUp = useCallback(async (name: string, email: string, password: string) => {
    const body = unwrap(await api.POST("/v1/auth/signup", { body: { name, email, password, refresh_cookie: true } }));
    queries.clear();
    setAccessToken(body.access_token);
  }, [queries]);

  const completeSso = useCallback(async (code: string) => {
    const body = unwrap(await api.POST("/v1/auth/sso/exchange", { body: { code, refresh_cookie: true } }));
    queries.clear();
    setAccessToken(body.access_token);
  }, [queries]);

  const signOut = useCallback(async () => {
    await api.POST("/v1/auth/logout", { body: {} });
    setAccessToken(null);
    queries.clear();
  }, [queries]);

  const value = useMemo(() => ({ status, signIn, signUp, signOut, completeSso }), [status, signIn, signUp, signOut, completeSso]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
