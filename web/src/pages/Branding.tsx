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
import { isHexColour, readBase64 } from "../lib/branding";
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
  // The logo image (ADR 0779, 0805): the replacement clears a logo it leaves out, so the editor holds the kept image's bytes (read back from
  // …/branding/logo.png) and sends them with every save, or the chosen file's, or none once removed.
  const kept = useQuery({
    enabled: branding.has_logo_png,
    queryKey: ["branding-logo", tenantId],
    queryFn: async () => {
      const r = await api.GET("/v1/tenants/{tenant_id}/branding/logo.png", { params: { path: { tenant_id: tenantId } }, parseAs: "blob" });
      return LogoImage.of(unwrap(r as { data?: Blob; error?: unknown; response: Response }));
    },
  });
  const [chosen, setChosen] = useState<LogoChoice>({ kind: "kept" });
  const [logoError, setLogoError] = useState<string | null>(null);
  useEffect(() => setChosen({ kind: "kept" }), [branding]);
  const logo = chosen.kind === "kept" ? (branding.has_logo_png ? kept.data ?? null : null) : chosen.kind === "file" ? chosen.image : null;
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    setLogoError(null);
    setSaved(false);
    if (branding.has_logo_png && chosen.kind === "kept" && !kept.data) {
      // Saving before the kept image is read back would clear it.
      setLogoError("The saved logo image could not be read; choose it again or remove it.");
      return;
    }
    try {
      const updated = unwrap(await api.PUT("/v1/tenants/{tenant_id}/branding", {
        params: { path: { tenant_id: tenantId } },
        body: {
          logo_url: v.logo_url || null,
          custom_css_url: v.custom_css_url || null,
          primary_color: v.primary_color || null,
          product_name: v.product_name || null,
          email_sender_name: v.email_sender_name || null,
          logo_png: logo ? await logo.base64() : null,
        },
      }));
      if (logo) queries.setQueryData(["branding-logo", tenantId], logo);
      queries.setQueryData(["branding", tenantId], updated);
      setSaved(true);
    } catch (e) {
      // The server's refusal of the image is shown next to its control; anything else above the form.
      const logoProblem = e instanceof ProblemError ? e.problem.errors?.logo_png : undefined;
      if (logoProblem) setLogoError(logoProblem.join(" "));
      if (!(logoProblem && Object.keys((e as ProblemError).problem.errors ?? {}).length === 1)) setError(e);
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
            <LogoPicker logo={logo} loading={branding.has_logo_png && chosen.kind === "kept" && kept.isPending} canEdit={canEdit} error={logoError}
              unsaved={chosen.kind !== "kept"}
              onChoose={(file) => {
                setSaved(false);
                setLogoError(null);
                setChosen({ kind: "file", image: LogoImage.of(file) });
              }}
              onRemove={() => {
                setSaved(false);
                setLogoError(null);
                setChosen({ kind: "removed" });
              }} />
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

/** Is a logo image the editor holds: its bytes (sent as base64) and, for a PNG, an object URL to preview it. */
class LogoImage {
  private constructor(private readonly blob: Blob, readonly previewUrl: string | null) {}

  static of(blob: Blob): LogoImage {
    return new LogoImage(blob, blob.type === "image/png" ? URL.createObjectURL(blob) : null);
  }

  base64(): Promise<string> {
    return readBase64(this.blob);
  }
}

type LogoChoice = { kind: "kept" } | { kind: "file"; image: LogoImage } | { kind: "removed" };

/** Chooses, previews and removes the logo image drawn on invoice PDFs; what the server refuses (not a PNG, too large) is said beside it. */
function LogoPicker({ logo, loading, canEdit, error, unsaved, onChoose, onRemove }: {
  logo: LogoImage | null; loading: boolean; canEdit: boolean; error: string | null; unsaved: boolean; onChoose(file: File): void; onRemove(): void;
}) {
  const describedBy = ["logo-png-hint", error ? "logo-png-error" : null].filter(Boolean).join(" ");
  return (
    <Flex direction="column" gap="1" data-testid="logo-png">
      <Text as="label" htmlFor="logo-png-file" size="2" weight="medium">Logo image (PNG)</Text>
      <Text id="logo-png-hint" size="1" color="gray">Drawn on invoice PDFs. A PNG file of at most 64 KB and 2000 × 2000 pixels; saved with the branding.</Text>
      {canEdit ? (
        <input id="logo-png-file" type="file" accept="image/png" aria-describedby={describedBy} aria-invalid={error ? true : undefined}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) onChoose(file);
            e.currentTarget.value = "";
          }} />
      ) : null}
      <Flex align="center" gap="3" style={{ minHeight: 44 }}>
        {loading ? <Text size="2" color="gray">Loading the logo image…</Text>
          : logo?.previewUrl ? <img src={logo.previewUrl} alt="Logo image" data-testid="logo-png-preview" style={{ maxHeight: 40, maxWidth: 160 }} />
          : logo ? <Text size="2" color="gray">No preview: the file is not a PNG.</Text>
          : <Text size="2" color="gray" data-testid="logo-png-none">No logo image.</Text>}
        {logo && canEdit ? <Button type="button" size="1" variant="soft" onClick={onRemove}>Remove logo image</Button> : null}
      </Flex>
      {unsaved && !error ? <Text size="1" color="gray" data-testid="logo-png-unsaved">Not saved yet: Save branding keeps the change.</Text> : null}
      {error ? <Text id="logo-png-error" role="alert" size="2" color="red" highContrast data-testid="logo-png-error">{error}</Text> : null}
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
