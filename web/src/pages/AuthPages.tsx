import { Box, Button, Card, Container, Flex, Heading, Link as RadixLink, Text, TextField } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Link, useLocation, useNavigate } from "react-router";
import { z } from "zod";
import { api } from "../api/client";
import { useAuth } from "../auth";
import { mayBeTenantHost } from "../lib/branding";
import { ProblemCallout } from "../components";

const signInSchema = z.object({
  email: z.string().trim().email("Enter an email address"),
  password: z.string().min(1, "Enter your password"),
});
const signUpSchema = signInSchema.extend({
  name: z.string().trim().min(1, "Enter your name").max(200),
  password: z.string().min(8, "At least 8 characters").max(128),
});

function Field({ id, label, error, ...input }: { id: string; label: string; error?: string } & React.ComponentProps<typeof TextField.Root>) {
  return (
    <Flex direction="column" gap="1">
      <Text as="label" htmlFor={id} size="2" weight="medium">{label}</Text>
      <TextField.Root id={id} aria-invalid={!!error} aria-describedby={error ? `${id}-error` : undefined} {...input} />
      {error ? <Text id={`${id}-error`} size="1" color="red">{error}</Text> : null}
    </Flex>
  );
}

/** Returns where to go after signing in: the page that asked (an invitation link, say), or the dashboard. */
/** Reads the branding of the host the page is served on; a 404 (no tenant here) or a failure means the platform's own look. */
function usePublicBranding() {
  const host = window.location.host;
  const query = useQuery({
    queryKey: ["public-branding", host],
    enabled: mayBeTenantHost(host),
    retry: false,
    staleTime: 300_000,
    queryFn: async () => {
      const result = await api.GET("/v1/branding", { params: { query: { host } } });
      return result.response.ok && result.data ? result.data : null;
    },
  });
  return query.data ?? null;
}

function useNext(): string {
  const next = new URLSearchParams(useLocation().search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function SignInPage() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const next = useNext();
  const [error, setError] = useState<unknown>(null);
  const branding = usePublicBranding();
  const form = useForm<z.infer<typeof signInSchema>>({ resolver: zodResolver(signInSchema) });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      await signIn(v.email, v.password);
      navigate(next, { replace: true });
    } catch (e) {
      setError(e);
    }
  });
  return (
    <AuthCard title={`Sign in to ${branding?.product_name ?? "Platform"}`} logoUrl={branding?.logo_url} color={branding?.primary_color}>
      <form onSubmit={submit} noValidate>
        <Flex direction="column" gap="3">
          {error ? <ProblemCallout error={error} /> : null}
          <Field id="email" label="Email" type="email" autoComplete="email" {...form.register("email")} error={form.formState.errors.email?.message} />
          <Field id="password" label="Password" type="password" autoComplete="current-password" {...form.register("password")} error={form.formState.errors.password?.message} />
          <Button type="submit" loading={form.formState.isSubmitting}>Sign in</Button>
          <Text size="2">No account? <RadixLink asChild underline="always"><Link to={`/signup${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>Sign up</Link></RadixLink></Text>
        </Flex>
      </form>
    </AuthCard>
  );
}

export function SignUpPage() {
  const { signUp } = useAuth();
  const navigate = useNavigate();
  const next = useNext();
  const [error, setError] = useState<unknown>(null);
  const form = useForm<z.infer<typeof signUpSchema>>({ resolver: zodResolver(signUpSchema) });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      await signUp(v.name, v.email, v.password);
      navigate(next, { replace: true });
    } catch (e) {
      setError(e);
    }
  });
  return (
    <AuthCard title="Create your account">
      <form onSubmit={submit} noValidate>
        <Flex direction="column" gap="3">
          {error ? <ProblemCallout error={error} /> : null}
          <Field id="name" label="Name" autoComplete="name" {...form.register("name")} error={form.formState.errors.name?.message} />
          <Field id="email" label="Email" type="email" autoComplete="email" {...form.register("email")} error={form.formState.errors.email?.message} />
          <Field id="password" label="Password" type="password" autoComplete="new-password" {...form.register("password")} error={form.formState.errors.password?.message} />
          <Button type="submit" loading={form.formState.isSubmitting}>Sign up</Button>
          <Text size="2">Have an account? <RadixLink asChild underline="always"><Link to={`/signin${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>Sign in</Link></RadixLink></Text>
        </Flex>
      </form>
    </AuthCard>
  );
}

function AuthCard({ title, children, logoUrl, color }: { title: string; children: React.ReactNode; logoUrl?: string | null; color?: string | null }) {
  return (
    <Container size="1" px="4" py="9">
      <main>
        <Card size="3" style={color ? { borderTop: `6px solid ${color}` } : undefined} data-testid="auth-card" data-brand-color={color ?? ""}>
          {logoUrl ? <Box mb="3"><img src={logoUrl} alt="" data-testid="brand-logo" style={{ maxHeight: 48, maxWidth: 200 }} /></Box> : null}
          <Box mb="4"><Heading as="h1" size="6">{title}</Heading></Box>
          {children}
        </Card>
      </main>
    </Container>
  );
}

export { Field };
