import { Button, Callout, Card, Code, Container, Flex, Heading, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { QRCodeSVG } from "qrcode.react";
import { useContext, useState } from "react";
import { useForm } from "react-hook-form";
import { useNavigate } from "react-router";
import { z } from "zod";
import { adminApi, adminQueries, OperatorContext, setOperatorToken, setSignInNotice } from "../api/admin";
import { unwrap } from "../api/client";
import { ProblemCallout } from "../components";
import { Field } from "./AuthPages";

const confirmSchema = z.object({ code: z.string().trim().regex(/^\d{6}$/, "The 6 digits your authenticator shows") });

/**
 * The operator's TOTP enrolment (ADR 0745): the API makes a secret (POST /v1/admin/auth/totp/enroll), shown this once as a QR code of its
 * otpauth:// URI and as text; a code from the authenticator confirms it (/confirm). The token in hand was signed in without a code, so the
 * operator signs in again with one afterwards. The secret lives in this component's state only.
 */
export function AdminEnrol({ required }: { required: boolean }) {
  const { operator, setOperator } = useContext(OperatorContext);
  const navigate = useNavigate();
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const start = useMutation({
    mutationFn: async () => unwrap(await adminApi.POST("/v1/admin/auth/totp/enroll")),
    onSuccess: (r) => setEnrolment({ secret: r.totp_secret, uri: r.otpauth_uri }),
  });
  const form = useForm<z.infer<typeof confirmSchema>>({ resolver: zodResolver(confirmSchema) });
  const confirm = useMutation({
    mutationFn: async (code: string) => unwrap(await adminApi.POST("/v1/admin/auth/totp/confirm", { body: { code } })),
    onSuccess: () => {
      setEnrolment(null);
      setSignInNotice("TOTP is on. Sign in with a code from your authenticator.");
      setOperatorToken(null);
      adminQueries.clear();
      navigate("/admin/signin", { replace: true });
      setOperator(null);
    },
  });
  const submit = form.handleSubmit((v) => confirm.mutate(v.code));
  const body = (
    <Card size="3">
      <Flex direction="column" gap="4">
        <Heading as="h1" size="6">Set up your authenticator</Heading>
        {required ? (
          <Callout.Root color="amber" role="status"><Callout.Text>Your account needs TOTP before anything else: enrol now, then sign in again with a code.</Callout.Text></Callout.Root>
        ) : <Text>Protect {operator?.email} with a code from an authenticator app at every sign-in.</Text>}
        {start.isError ? <ProblemCallout error={start.error} /> : null}
        {!enrolment ? (
          <Button onClick={() => start.mutate()} loading={start.isPending} style={{ alignSelf: "start" }}>Start enrolment</Button>
        ) : (
          <>
            <Text>Scan this QR code with your authenticator app, or type the secret below into it.</Text>
            <Flex justify="center" p="3" style={{ background: "white", borderRadius: 8 }}>
              <QRCodeSVG value={enrolment.uri} size={200} marginSize={2} title="QR code of your TOTP secret" data-testid="totp-qr" />
            </Flex>
            <Flex direction="column" gap="1">
              <Text size="2" weight="medium" id="totp-secret-label">Secret</Text>
              <Code size="3" aria-labelledby="totp-secret-label" data-testid="totp-secret" style={{ wordBreak: "break-all" }}>{enrolment.secret}</Code>
            </Flex>
            <form onSubmit={submit} noValidate>
              <Flex direction="column" gap="3">
                {confirm.isError ? <ProblemCallout error={confirm.error} /> : null}
                <Field id="totp-confirm" label="Code from your authenticator" inputMode="numeric" autoComplete="one-time-code" {...form.register("code")} error={form.formState.errors.code?.message} />
                <Button type="submit" loading={confirm.isPending} style={{ alignSelf: "start" }}>Confirm</Button>
              </Flex>
            </form>
          </>
        )}
      </Flex>
    </Card>
  );
  return required ? <Container size="1" px="4" py="9"><main>{body}</main></Container> : body;
}
