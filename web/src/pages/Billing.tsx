import { AlertDialog, Badge, Button, Card, Dialog, Flex, Grid, Heading, RadioGroup, Table, Text } from "@radix-ui/themes";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useOutletContext, useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import type { Membership } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { effectiveCycle, planAction, planPriceIn, type BillingCycle, type PlanAction } from "../lib/billing";
import { formatCents } from "../lib/format";
import { InvoiceTable } from "./InvoiceTable";
import { KeyboardScroll } from "./Pager";
import { useBilling } from "./UsageParts";

/** Sends the browser to a Stripe-hosted page (Checkout or the customer portal). */
const goTo = (url: string) => window.location.assign(url);

const day = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleDateString("en-GB", { timeZone: "UTC" }) : "—");

export function BillingPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const queries = useQueryClient();
  const billing = useBilling(tenantId);
  const plans = useQuery({ queryKey: ["plans"], queryFn: async () => unwrap(await api.GET("/v1/plans")) });
  const isOwner = me.role === "owner";
  const isAdmin = isOwner || me.role === "admin";
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = () => Promise.all([
    queries.invalidateQueries({ queryKey: ["billing", tenantId] }),
    queries.invalidateQueries({ queryKey: ["me"] }),
    queries.invalidateQueries({ queryKey: ["tenant", tenantId] }),
  ]);
  const [params, setParams] = useSearchParams();
  const returned = params.get("checkout");
  const [checkoutNotice, setCheckoutNotice] = useState<{ ok: boolean; text: string } | null>(null);
  // Back from Stripe Checkout: say what happened, refetch what the webhook may have changed, and drop the parameter so a reload does not repeat it.
  useEffect(() => {
    if (returned !== "success" && returned !== "cancel") return;
    setCheckoutNotice(returned === "success"
      ? { ok: true, text: "Payment received. Your plan and credits update as soon as Stripe confirms it." }
      : { ok: false, text: "Checkout was cancelled: nothing was charged and your plan is unchanged." });
    void refresh();
    void queries.invalidateQueries({ queryKey: ["credits", tenantId] });
    void queries.invalidateQueries({ queryKey: ["credit-ledger", tenantId] });
    setParams((p) => { p.delete("checkout"); return p; }, { replace: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [returned]);
  const online = billing.data?.online_billing === true;
  const [chosenCycle, setChosenCycle] = useState<BillingCycle>("monthly");
  const changePlan = useMutation({
    mutationFn: async ({ route, body }: PlanAction) => {
      const path = { tenant_id: tenantId };
      // Online, a plan without a live subscription is bought through Stripe Checkout; plan changes and the offline path use POST /subscription
      // (ADR 0740), in the cycle chosen on the page or the live subscription's (ADR 0785).
      if (route === "checkout") {
        return { checkout: unwrap(await api.POST("/v1/tenants/{tenant_id}/billing/checkout", { params: { path }, body })).url };
      }
      return { subscription: unwrap(await api.POST("/v1/tenants/{tenant_id}/subscription", { params: { path }, body })) };
    },
    onMutate: () => { setNotice(null); setCheckoutNotice(null); },
    onSuccess: (r) => {
      if (r.checkout) return goTo(r.checkout);
      const s = r.subscription!;
      setNotice(s.pending_plan ? `The ${s.pending_plan} plan starts on ${day(s.current_period_end)}, at the end of this period.` : `You are now on the ${s.plan} plan.`);
    },
    onSettled: refresh,
  });
  const portal = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/tenants/{tenant_id}/billing/portal", { params: { path: { tenant_id: tenantId } } })),
    onSuccess: (r) => goTo(r.url),
  });
  const cancel = useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE("/v1/tenants/{tenant_id}/subscription", { params: { path: { tenant_id: tenantId }, query: { at_period_end: true } } })),
    onMutate: () => setNotice(null),
    onSuccess: (s) => setNotice(`The subscription ends on ${day(s.current_period_end)}.`),
    onSettled: refresh,
  });

  if (billing.isPending) return <Loading label="Loading billing" />;
  if (billing.isError) return <ProblemCallout error={billing.error} />;
  const b = billing.data;
  const sub = b.subscription;
  const live = !!sub && sub.status !== "canceled";
  const cycle = effectiveCycle(sub?.billing_cycle, live, chosenCycle);
  return (
    <Flex direction="column" gap="5">
      <Card>
        <Flex direction="column" gap="2">
          <Heading as="h2" size="4">Plan</Heading>
          <Text data-testid="current-plan">
            <Text weight="bold">{b.plan}</Text> · {b.status}
            {sub ? <> · {sub.billing_cycle}, period {day(sub.current_period_start)} – {day(sub.current_period_end)}</> : " · no subscription"}
          </Text>
          {sub?.pending_plan ? <Text color="gray" data-testid="pending-plan">Changes to {sub.pending_plan} on {day(sub.current_period_end)}.</Text> : null}
          {sub?.cancel_at_period_end ? <Text color="orange">Ends on {day(sub.current_period_end)}.</Text> : null}
          {b.credit_balance !== null && b.credit_balance !== undefined ? <Text data-testid="credit-balance">Credits: {b.credit_balance.toLocaleString("en-US")}</Text> : null}
          <Text>Estimated this period: <Text weight="bold">{formatCents(b.estimated_cost.total_cents, b.estimated_cost.currency)}</Text></Text>
          {b.payment_method ? (
            <Text data-testid="payment-method">
              Card: {b.payment_method.brand ?? "card"} ending {b.payment_method.last4}
              {b.payment_method.exp_month && b.payment_method.exp_year ? `, expires ${String(b.payment_method.exp_month).padStart(2, "0")}/${b.payment_method.exp_year}` : ""}
            </Text>
          ) : null}
          {b.billing_details.name || b.billing_details.address ? (
            <Text color="gray" data-testid="billing-details">
              Billed to: {[b.billing_details.name, b.billing_details.address?.line1, b.billing_details.address?.line2,
                [b.billing_details.address?.postal_code, b.billing_details.address?.city].filter(Boolean).join(" "),
                b.billing_details.address?.state, b.billing_details.address?.country].filter(Boolean).join(", ")}
            </Text>
          ) : null}
          {notice ? <Text role="status" color="green" data-testid="billing-notice">{notice}</Text> : null}
          {checkoutNotice ? <Text role="status" color={checkoutNotice.ok ? "green" : "orange"} data-testid="checkout-notice">{checkoutNotice.text}</Text> : null}
          {portal.isError ? <ProblemCallout error={portal.error} /> : null}
          {isAdmin && online ? (
            <Button variant="soft" style={{ alignSelf: "start" }} loading={portal.isPending} onClick={() => portal.mutate()}>Manage payment method</Button>
          ) : null}
          {changePlan.isError ? <ProblemCallout error={changePlan.error} /> : null}
          {cancel.isError ? <ProblemCallout error={cancel.error} /> : null}
          {isOwner && sub && sub.status !== "canceled" && !sub.cancel_at_period_end ? (
            <AlertDialog.Root>
              <AlertDialog.Trigger><Button color="red" variant="soft" style={{ alignSelf: "start" }}>Cancel subscription</Button></AlertDialog.Trigger>
              <AlertDialog.Content maxWidth="420px">
                <AlertDialog.Title>Cancel the subscription?</AlertDialog.Title>
                <AlertDialog.Description>The plan stays until {day(sub.current_period_end)}, then ends.</AlertDialog.Description>
                <Flex gap="3" mt="4" justify="end">
                  <AlertDialog.Cancel><Button variant="soft" color="gray">Keep it</Button></AlertDialog.Cancel>
                  <AlertDialog.Action><Button color="red" onClick={() => cancel.mutate()}>Cancel at period end</Button></AlertDialog.Action>
                </Flex>
              </AlertDialog.Content>
            </AlertDialog.Root>
          ) : null}
        </Flex>
      </Card>

      <Flex direction="column" gap="3">
        <Heading as="h2" size="4">Plans</Heading>
        {live ? (
          <Text size="2" color="gray" data-testid="billing-cycle">Billed {cycle === "annual" ? "annually" : "monthly"}: plan changes keep the subscription's cycle.</Text>
        ) : (
          <Flex direction="column" gap="1">
            <Text as="div" size="2" weight="medium" id="billing-cycle-label">Billing cycle</Text>
            <RadioGroup.Root value={chosenCycle} onValueChange={(v) => setChosenCycle(v as BillingCycle)} aria-labelledby="billing-cycle-label" data-testid="billing-cycle">
              <Flex gap="4">
                <RadioGroup.Item value="monthly">Monthly</RadioGroup.Item>
                <RadioGroup.Item value="annual">Annual</RadioGroup.Item>
              </Flex>
            </RadioGroup.Root>
          </Flex>
        )}
        {plans.isPending ? <Loading label="Loading plans" /> : plans.isError ? <ProblemCallout error={plans.error} /> : (
          <Grid columns={{ initial: "1", sm: "2", md: "4" }} gap="3">
            {plans.data.data.map((p) => {
              const current = p.id === b.plan;
              // As the API does: without a live subscription any plan starts now; with one, an upgrade applies now and a downgrade at the period's end.
              const action = planAction(p, plans.data.data.find((x) => x.id === b.plan), live, online, cycle);
              return (
                <Card key={p.id} data-testid={`plan-${p.id}`}>
                  <Flex direction="column" gap="1">
                    <Text weight="bold">{p.name}</Text>
                    <Text data-testid="plan-price">{formatCents(planPriceIn(p, cycle, b?.currency).cents, planPriceIn(p, cycle, b?.currency).currency)} / {cycle === "annual" ? "year" : "month"}</Text>
                    {current ? <Badge highContrast color="green" style={{ alignSelf: "start" }}>Current plan</Badge> : isOwner ? (
                      <Button size="1" variant="soft" loading={changePlan.isPending && changePlan.variables?.body.plan === p.id}
                        onClick={() => changePlan.mutate(action)} aria-label={`${action.verb}: ${p.name}`}>{action.verb}</Button>
                    ) : null}
                  </Flex>
                </Card>
              );
            })}
          </Grid>
        )}
      </Flex>

      {isAdmin ? <Invoices tenantId={tenantId} /> : null}
      {isAdmin ? <Credits tenantId={tenantId} isOwner={isOwner} online={online} currency={billing.data?.currency} /> : null}
    </Flex>
  );
}

function Invoices({ tenantId }: { tenantId: string }) {
  const invoices = useQuery({
    queryKey: ["invoices", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/invoices", { params: { path: { tenant_id: tenantId }, query: { limit: 50 } } })),
  });
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="4">Invoices</Heading>
      {invoices.isPending ? <Loading label="Loading invoices" /> : invoices.isError ? <ProblemCallout error={invoices.error} /> :
        invoices.data.data.length === 0 ? <Empty>No invoices yet.</Empty> : (
          <InvoiceTable invoices={invoices.data.data} rowTestId={(i) => `invoice-${i.number}`} lastColumn="Detail"
            renderLast={(i) => <InvoiceDetail tenantId={tenantId} invoiceId={i.id} number={i.number} />} />
        )}
    </Flex>
  );
}

function InvoiceDetail({ tenantId, invoiceId, number }: { tenantId: string; invoiceId: string; number: number }) {
  const [open, setOpen] = useState(false);
  const detail = useQuery({
    enabled: open,
    queryKey: ["invoice", tenantId, invoiceId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/invoices/{invoice_id}", { params: { path: { tenant_id: tenantId, invoice_id: invoiceId } } })),
  });
  // The PDF needs the bearer token, which lives in memory only: it is fetched through the client and handed to the browser as a download.
  const pdf = useMutation({
    mutationFn: async () => {
      const r = await api.GET("/v1/tenants/{tenant_id}/invoices/{invoice_id}/pdf", { params: { path: { tenant_id: tenantId, invoice_id: invoiceId } }, parseAs: "blob" });
      return unwrap(r as { data?: Blob; error?: unknown; response: Response });
    },
    onSuccess: (blob) => {
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `invoice-${number}.pdf`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    },
  });
  return (
    <Dialog.Root open={open} onOpenChange={setOpen}>
      <Dialog.Trigger><Button size="1" variant="soft" aria-label={`Open invoice ${number}`}>Details</Button></Dialog.Trigger>
      <Dialog.Content maxWidth="560px">
        <Dialog.Title>Invoice #{number}</Dialog.Title>
        <Dialog.Description size="2" mb="3">Lines of the invoice, in integer cents as billed.</Dialog.Description>
        {detail.isPending ? <Loading /> : detail.isError ? <ProblemCallout error={detail.error} /> : (
          <Table.Root size="1" aria-label={`Lines of invoice ${number}`}>
            <Table.Body>
              {detail.data.lines.map((l, n) => (
                <Table.Row key={n}>
                  <Table.Cell>{l.description}</Table.Cell>
                  <Table.Cell justify="end">{formatCents(l.amount_cents, detail.data.currency)}</Table.Cell>
                </Table.Row>
              ))}
              <Table.Row>
                <Table.RowHeaderCell>Total</Table.RowHeaderCell>
                <Table.Cell justify="end"><Text weight="bold">{formatCents(detail.data.total_cents, detail.data.currency)}</Text></Table.Cell>
              </Table.Row>
            </Table.Body>
          </Table.Root>
        )}
        {pdf.isError ? <ProblemCallout error={pdf.error} /> : null}
        <Flex justify="end" gap="3" mt="3">
          {detail.data && detail.data.status !== "draft" ? (
            <Button variant="soft" loading={pdf.isPending} onClick={() => pdf.mutate()}>Download PDF</Button>
          ) : null}
          <Dialog.Close><Button variant="soft" color="gray">Close</Button></Dialog.Close>
        </Flex>
      </Dialog.Content>
    </Dialog.Root>
  );
}

/** Gives a pack's price in the tenant's billing currency, which is what a purchase charges (ADR 0777), else its primary price. */
function packPrice(p: { price_cents: number; currency: string; prices: { currency: string; price_cents: number }[] }, currency?: string) {
  return p.prices.find((x) => x.currency === currency) ?? { currency: p.currency, price_cents: p.price_cents };
}

function Credits({ tenantId, isOwner, online, currency }: { tenantId: string; isOwner: boolean; online: boolean; currency?: string }) {
  const queries = useQueryClient();
  const [bought, setBought] = useState<string | null>(null);
  const buy = useMutation({
    mutationFn: async (pack: string) => {
      const path = { tenant_id: tenantId };
      // Through Stripe Checkout when billing runs online; offline the API grants the pack at once (ADR 0740).
      if (online) return { checkout: unwrap(await api.POST("/v1/tenants/{tenant_id}/credits/checkout", { params: { path }, body: { pack } })).url };
      return { purchase: unwrap(await api.POST("/v1/tenants/{tenant_id}/credits/purchase", { params: { path }, body: { pack } })) };
    },
    onMutate: () => setBought(null),
    onSuccess: (r) => {
      if (r.checkout) return goTo(r.checkout);
      const p = r.purchase!;
      setBought(p.status === "succeeded" ? `${p.credits.toLocaleString("en-US")} credits added.` : `The purchase of ${p.credits.toLocaleString("en-US")} credits is ${p.status}.`);
    },
    onSettled: () => Promise.all([
      queries.invalidateQueries({ queryKey: ["credits", tenantId] }),
      queries.invalidateQueries({ queryKey: ["credit-ledger", tenantId] }),
      queries.invalidateQueries({ queryKey: ["billing", tenantId] }),
    ]),
  });
  const account = useQuery({
    queryKey: ["credits", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/credits", { params: { path: { tenant_id: tenantId } } })),
  });
  const ledger = useQuery({
    queryKey: ["credit-ledger", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/credits/transactions", { params: { path: { tenant_id: tenantId }, query: { limit: 50 } } })),
  });
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="4">Credits</Heading>
      {account.isPending ? <Loading label="Loading credits" /> : account.isError ? <ProblemCallout error={account.error} /> : (
        <Text data-testid="credits-balance">Balance: <Text weight="bold">{account.data.unlimited ? "unlimited" : account.data.balance.toLocaleString("en-US")}</Text>
          {account.data.monthly_grant ? ` · ${account.data.monthly_grant.toLocaleString("en-US")} granted each month` : ""}</Text>
      )}
      {isOwner && account.data && account.data.packs.length > 0 ? (
        <Flex gap="2" wrap="wrap" aria-label="Credit packs" role="group">
          {account.data.packs.map((p) => (
            <Button key={p.id} size="1" variant="soft" data-testid={`pack-${p.id}`} loading={buy.isPending && buy.variables === p.id} onClick={() => buy.mutate(p.id)}>
              Buy {p.credits.toLocaleString("en-US")} credits · {formatCents(packPrice(p, currency).price_cents, packPrice(p, currency).currency)}
            </Button>
          ))}
        </Flex>
      ) : null}
      {bought ? <Text role="status" color="green" data-testid="credits-notice">{bought}</Text> : null}
      {buy.isError ? <ProblemCallout error={buy.error} /> : null}
      {ledger.isPending ? <Loading label="Loading the ledger" /> : ledger.isError ? <ProblemCallout error={ledger.error} /> :
        ledger.data.data.length === 0 ? <Empty>No credit transactions yet.</Empty> : (
          <KeyboardScroll label="Credit ledger"><Table.Root size="1" variant="surface" aria-label="Credit ledger">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Date</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Type</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell justify="end">Amount</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell justify="end">Balance after</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {ledger.data.data.map((t) => (
                <Table.Row key={t.id}>
                  <Table.Cell>{day(t.created_at)}</Table.Cell>
                  <Table.Cell>{t.type}</Table.Cell>
                  <Table.Cell justify="end">{t.amount.toLocaleString("en-US")}</Table.Cell>
                  <Table.Cell justify="end">{t.balance_after.toLocaleString("en-US")}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root></KeyboardScroll>
        )}
    </Flex>
  );
}
