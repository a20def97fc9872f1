import { Box, Button, Callout, Card, Flex, Heading, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useForm, useWatch } from "react-hook-form";
import { useOutletContext } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Membership, Schemas } from "../api/types";
import { Loading, ProblemCallout } from "../components";
import { isHexColour } from "../lib/branding";
import { ProblemError } from "../lib/problem";
import { Field } from "./AuthPages";

const httpsUrl = z.union([
  z.literal(""),
  z.string().trim().url("Enter an https URL").refine((v) => v.toLowerCase().startsWith("https://"), "Enter an https URL"),
]);

export const brandingSchema = z.object({
  logo_url: httpsUrl,
  custom_css_url: httpsUrl,
  primary_color: z.union([z.literal(""), z.string().trim().refine(isHexColour, "Enter a colour as #rrggbb")]),
  product_name: z.string().trim().max(100, "At most 100 characters"),
  email_sender_name: z.string().trim().max(100, "At most 100 characters"),
});
type BrandingForm = z.infer<typeof brandingSchema>;

function toForm(b: Schemas["BrandingResponse"]): BrandingForm {
  return {
    logo_url: b.logo_url ?? "",
    custom_css_url: b.custom_css_url ?? "",
    primary_color: b.primary_color ?? "",
    product_name: b.product_name ?? "",
    email_sender_name: b.email_sender_name ?? "",
  };
}

/** The tenant's branding: a form (empty fields fall back to the platform's look) beside a live preview of the sign-in card. */
export function BrandingPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const branding = useQuery({
    queryKey: ["branding", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/branding", { params: { path: { tenant_id: tenantId } } })),
  });
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="4">Branding</Heading>
      {branding.isPending ? <Loading label="Loading the branding" /> : branding.isError ? (
        branding.error instanceof ProblemError && branding.error.problem.code === "feature_not_in_plan" ? <UpgradeCallout feature="branding" /> : <ProblemCallout error={branding.error} />
      ) : (
        <BrandingEditor tenantId={tenantId} branding={branding.data} canEdit={me.role === "owner" || me.role === "admin"} fallbackName={me.tenant_name} />
      )}
    </Flex>
  );
}

/** Shows a plan's missing feature as what to do about it rather than as an error. */
export function UpgradeCallout({ feature, plans = "the Professional and Enterprise plans do" }: { feature: string; plans?: string }) {
  return (
    <Callout.Root color="amber" highContrast data-testid="upgrade">
      <Callout.Text>
        <Text weight="bold">Upgrade to use {feature}.</Text> The tenant's plan does not include {feature}; {plans}. Change the plan on the Billing page.
      </Callout.Text>
    </Callout.Root>
  );
}

function BrandingEditor({ tenantId, branding, canEdit, fallbackName }: { tenantId: string; branding: Schemas["BrandingResponse"]; canEdit: boolean; fallbackName: string }) {
  const queries = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const form = useForm<BrandingForm>({ resolver: zodResolver(brandingSchema), defaultValues: toForm(branding) });
  useEffect(() => form.reset(toForm(branding)), [branding, form]);
  const live = useWatch({ control: form.control });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    setSaved(false);
    try {
      const updated = unwrap(await api.PUT("/v1/tenants/{tenant_id}/branding", {
        params: { path: { tenant_id: tenantId } },
        body: {
          logo_url: v.logo_url || null,
          custom_css_url: v.custom_css_url || null,
          primary_color: v.primary_color || null,
          product_name: v.product_name || null,
          email_sender_name: v.email_sender_name || null,
        },
      }));
      queries.setQueryData(["branding", tenantId], updated);
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  });
  const err = form.formState.errors;
  return (
    <Flex gap="4" wrap="wrap" align="start">
      <Card style={{ flex: "1 1 360px", maxWidth: 520 }}>
        <form onSubmit={submit} noValidate aria-labelledby="branding-heading">
          <Flex direction="column" gap="3">
            <Heading as="h3" size="3" id="branding-heading">Look of the sign-in page and emails</Heading>
            <Text size="2" color="gray">Empty fields fall back to the platform's own.</Text>
            {error ? <ProblemCallout error={error} /> : null}
            <Field id="product-name" label="Product name" disabled={!canEdit} {...form.register("product_name")} error={err.product_name?.message} />
            <Field id="logo-url" label="Logo URL" placeholder="https://" disabled={!canEdit} {...form.register("logo_url")} error={err.logo_url?.message} />
            <Field id="primary-color" label="Primary colour" placeholder="#rrggbb" disabled={!canEdit} {...form.register("primary_color")} error={err.primary_color?.message} />
            <Field id="css-url" label="Stylesheet URL" placeholder="https://" disabled={!canEdit} {...form.register("custom_css_url")} error={err.custom_css_url?.message} />
            <Field id="sender-name" label="Email sender name" disabled={!canEdit} {...form.register("email_sender_name")} error={err.email_sender_name?.message} />
            {saved ? <Text role="status" color="green" data-testid="branding-saved">Saved.</Text> : null}
            {canEdit ? <Button type="submit" loading={form.formState.isSubmitting} style={{ alignSelf: "start" }}>Save branding</Button> : null}
          </Flex>
        </form>
      </Card>
      <BrandingPreview
        productName={live.product_name?.trim() || fallbackName}
        logoUrl={live.logo_url && httpsUrl.safeParse(live.logo_url).success ? live.logo_url.trim() : null}
        color={live.primary_color && isHexColour(live.primary_color) ? live.primary_color.trim() : null}
      />
    </Flex>
  );
}

/** Draws the sign-in card as a tenant host would show it. */
export function BrandingPreview({ productName, logoUrl, color }: { productName: string; logoUrl: string | null; color: string | null }) {
  return (
    <Card style={{ flex: "1 1 280px", maxWidth: 400 }} aria-label="Preview" role="region" data-testid="branding-preview">
      <Flex direction="column" gap="3">
        <Text size="1" color="gray">Preview</Text>
        <Box style={{ borderTop: `4px solid ${color ?? "var(--accent-9)"}` }} data-testid="preview-bar" data-color={color ?? ""} />
        <Flex align="center" gap="2">
          {logoUrl ? <img src={logoUrl} alt={`${productName} logo`} data-testid="preview-logo" style={{ maxHeight: 40, maxWidth: 160 }} /> : null}
          <Text size="5" weight="bold" data-testid="preview-name">{productName}</Text>
        </Flex>
        <Text size="2">Sign in to {productName}</Text>
        <Box px="3" py="2" style={{ background: color ?? "var(--accent-9)", color: "white", borderRadius: 6, alignSelf: "start" }}>
          <Text size="2" weight="medium" style={{ color: "white", textShadow: "0 0 2px #000" }}>Sign in</Text>
        </Box>
      </Flex>
    </Card>
  );
}
