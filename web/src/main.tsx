import "@radix-ui/themes/styles.css";
import { Theme } from "@radix-ui/themes";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { AuthProvider } from "./auth";
import { ProblemError } from "./lib/problem";
import { SignInPage, SignUpPage } from "./pages/AuthPages";
import { NotFoundPage } from "./pages/NotFound";
import { Home, RequireAuth, TenantShell } from "./pages/Shell";
import { NewTenantPage, OverviewPage, TenantlessRedirect } from "./pages/Tenants";

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A refusal (4xx) is an answer, not a glitch: only network failures and 5xx are tried again.
      retry: (count, error) => count < 2 && !(error instanceof ProblemError && error.problem.status >= 400 && error.problem.status < 500),
    },
  },
});

const router = createBrowserRouter([
  { path: "/signin", element: <SignInPage /> },
  { path: "/signup", element: <SignUpPage /> },
  { path: "/sso/complete", lazy: async () => ({ Component: (await import("./pages/SsoComplete")).SsoCompletePage }) },
  {
    element: <RequireAuth />,
    children: [
      { path: "/", element: <Home /> },
      { path: "/tenants/new", element: <NewTenantPage /> },
      { path: "/profile", lazy: async () => ({ Component: (await import("./pages/Profile")).ProfilePage }) },
      { path: "/usage", element: <TenantlessRedirect page="usage" /> },
      { path: "/billing", element: <TenantlessRedirect page="billing" /> },
      { path: "/invitations/accept", lazy: async () => ({ Component: (await import("./pages/AcceptInvitation")).AcceptInvitationPage }) },
      {
        path: "/t/:tenantId",
        element: <TenantShell />,
        children: [
          { index: true, element: <OverviewPage /> },
          { path: "usage", lazy: async () => ({ Component: (await import("./pages/Usage")).UsagePage }) },
          { path: "billing", lazy: async () => ({ Component: (await import("./pages/Billing")).BillingPage }) },
          { path: "api-keys", lazy: async () => ({ Component: (await import("./pages/ApiKeys")).ApiKeysPage }) },
          { path: "members", lazy: async () => ({ Component: (await import("./pages/Members")).MembersPage }) },
          { path: "runs", lazy: async () => ({ Component: (await import("./pages/Runs")).RunsPage }) },
          { path: "runs/:runId", lazy: async () => ({ Component: (await import("./pages/Runs")).RunDetailPage }) },
          { path: "workers", lazy: async () => ({ Component: (await import("./pages/Runs")).WorkersPage }) },
          { path: "audit-log", lazy: async () => ({ Component: (await import("./pages/Audit")).AuditPage }) },
          { path: "webhooks", lazy: async () => ({ Component: (await import("./pages/Webhooks")).WebhooksPage }) },
          { path: "webhooks/:endpointId", lazy: async () => ({ Component: (await import("./pages/Webhooks")).WebhookEndpointPage }) },
          { path: "ip-allowlist", lazy: async () => ({ Component: (await import("./pages/IpAllowlist")).IpAllowlistPage }) },
          { path: "support", lazy: async () => ({ Component: (await import("./pages/Support")).SupportPage }) },
          { path: "support/:ticketId", lazy: async () => ({ Component: (await import("./pages/Support")).SupportTicketPage }) },
          { path: "branding", lazy: async () => ({ Component: (await import("./pages/Branding")).BrandingPage }) },
          { path: "domains", lazy: async () => ({ Component: (await import("./pages/Domains")).DomainsPage }) },
          { path: "sso", lazy: async () => ({ Component: (await import("./pages/Sso")).SsoPage }) },
          { path: "settings", lazy: async () => ({ Component: (await import("./pages/Settings")).SettingsPage }) },
        ],
      },
    ],
  },
  // The operator console: its own sign-in and token, loaded only when an operator opens /admin.
  { path: "/admin/*", lazy: async () => ({ Component: (await import("./pages/Admin")).default }) },
  { path: "*", element: <NotFoundPage /> },
]);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <Theme accentColor="indigo" grayColor="slate" radius="medium">
        <AuthProvider>
          <RouterProvider router={router} />
        </AuthProvider>
      </Theme>
    </QueryClientProvider>
  </StrictMode>,
);
