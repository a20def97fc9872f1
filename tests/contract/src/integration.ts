// A client's first session, written against the types openapi-typescript generates from the served document, with no cast and no `any`:
// sign up, create a tenant and an API key, admit and complete a run with the key, read usage, list members, invite someone, then an
// expected 404 and an expected 429, both read as typed problem details. It prints one JSON line that the C# test asserts.
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "../generated/platform-api.js";

type Problem = components["schemas"]["ProblemDetails"];

const baseUrl = process.env["PLATFORM_URL"];
if (baseUrl === undefined) {
  throw new Error("PLATFORM_URL is not set");
}

function fail(step: string, problem: Problem | undefined, status: number): never {
  throw new Error(`${step} failed with ${status}: ${problem === undefined ? "no problem body" : `${problem.code}: ${problem.title}`}`);
}

function describe(problem: Problem): string {
  return `${problem.status} ${problem.code}`;
}

const anonymous = createClient<paths>({ baseUrl });
const suffix = randomUUID().slice(0, 8);

const signUp = await anonymous.POST("/v1/auth/signup", {
  body: { email: `ts-${suffix}@example.test`, password: "correct horse battery", name: "TypeScript client" },
});
if (signUp.data === undefined) fail("sign-up", signUp.error, signUp.response.status);
const user = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${signUp.data.access_token}` } });

const tenant = await user.POST("/v1/tenants", { body: { name: "TypeScript tenant", slug: `ts-${suffix}` } });
if (tenant.data === undefined) fail("create tenant", tenant.error, tenant.response.status);
const tenantPath = { tenant_id: tenant.data.id };

const key = await user.POST("/v1/tenants/{tenant_id}/api-keys", {
  params: { path: tenantPath, header: { "Idempotency-Key": `key-${suffix}` } },
  body: { name: "ts key", permissions: ["runs:read", "runs:write", "usage:read"], rate_limit_rpm: 3 },
});
if (key.data === undefined) fail("create API key", key.error, key.response.status);
const machine = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key.data.key}` } });
const current = { tenant_id: "current" };

const run = await machine.POST("/v1/tenants/{tenant_id}/runs", {
  params: { path: current },
  body: { worker_id: "summarizer", task: "summarise the contract" },
});
if (run.data === undefined) fail("admit run", run.error, run.response.status);

const completed = await machine.POST("/v1/tenants/{tenant_id}/runs/{run_id}/complete", {
  params: { path: { ...current, run_id: run.data.id } },
  body: { success: true, total_tokens: 1200, latency_ms: 850 },
});
if (completed.data === undefined) fail("complete run", completed.error, completed.response.status);

const usage = await machine.GET("/v1/tenants/{tenant_id}/usage", { params: { path: current } });
if (usage.data === undefined) fail("read usage", usage.error, usage.response.status);
const meters: Record<string, number> = {};
for (const meter of usage.data.meters) {
  meters[meter.meter] = meter.used;
}

const members = await user.GET("/v1/tenants/{tenant_id}/members", { params: { path: tenantPath, query: { limit: 10 } } });
if (members.data === undefined) fail("list members", members.error, members.response.status);

const invitation = await user.POST("/v1/tenants/{tenant_id}/invitations", {
  params: { path: tenantPath },
  body: { email: `invitee-${suffix}@example.test`, role: "member" },
});
if (invitation.data === undefined) fail("invite", invitation.error, invitation.response.status);

const missing = await user.GET("/v1/tenants/{tenant_id}", { params: { path: { tenant_id: randomUUID() } } });
if (missing.error === undefined) throw new Error("reading an unknown tenant did not fail");
const notFound: Problem = missing.error;

// The key allows 3 requests a minute and has made 3: the next one is refused.
const limited = await machine.GET("/v1/tenants/{tenant_id}/usage", { params: { path: current } });
if (limited.error === undefined) throw new Error("the fourth request in a minute was not refused");
const rateLimited: Problem = limited.error;

console.log(JSON.stringify({
  user: signUp.data.user.email,
  tenant_slug: tenant.data.slug,
  key_permissions: key.data.permissions,
  run_status: completed.data.status,
  run_tokens: completed.data.total_tokens,
  meters,
  members: members.data.data.map((m) => `${m.email}:${m.role}`),
  invitation_role: invitation.data.invitation.role,
  not_found: describe(notFound),
  not_found_status: missing.response.status,
  rate_limited: describe(rateLimited),
  rate_limited_status: limited.response.status,
  retry_after: limited.response.headers.get("Retry-After"),
}));
