import { AlertDialog, Badge, Box, Button, Card, Container, Flex, Heading, Table, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Schemas } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { formatInstant } from "../lib/paging";
import { Field } from "./AuthPages";
import { KeyboardScroll } from "./Pager";
import { TopBar, useMe } from "./Shell";

const nameSchema = z.object({ name: z.string().trim().min(1, "Enter your name").max(200) });
const passwordSchema = z.object({
  current_password: z.string().min(1, "Enter your current password"),
  new_password: z.string().min(8, "At least 8 characters").max(128),
  confirm: z.string(),
}).refine((v) => v.new_password === v.confirm, { path: ["confirm"], message: "The two new passwords differ" });

/** The signed-in user's profile: name, password and sessions. */
export function ProfilePage() {
  const me = useMe();
  return (
    <>
      <TopBar switcher={false} />
      <Container size="3" px="4" py="4">
        <main>
          <Heading as="h1" size="6" mb="4">Profile</Heading>
          {me.isPending ? <Loading label="Loading your profile" /> : me.isError ? <ProblemCallout error={me.error} /> : (
            <Flex direction="column" gap="4">
              <NameCard user={me.data.user} />
              <PasswordCard />
              <SessionsCard />
            </Flex>
          )}
        </main>
      </Container>
    </>
  );
}

function NameCard({ user }: { user: Schemas["UserResponse"] }) {
  const queries = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const form = useForm<z.infer<typeof nameSchema>>({ resolver: zodResolver(nameSchema), defaultValues: { name: user.name } });
  useEffect(() => form.reset({ name: user.name }), [user.name, form]);
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    setSaved(false);
    try {
      // PATCH /v1/me leaves out what is not sent; the generated type lists every field, so the partial body is cast.
      const updated = unwrap(await api.PATCH("/v1/me", { body: { name: v.name } as unknown as Schemas["UpdateMeRequest"] }));
      queries.setQueryData(["me"], updated);
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  });
  return (
    <Card>
      <form onSubmit={submit} noValidate aria-labelledby="name-heading">
        <Flex direction="column" gap="3" maxWidth="480px">
          <Heading as="h2" size="4" id="name-heading">Your details</Heading>
          {error ? <ProblemCallout error={error} /> : null}
          <Text size="2">Email: {user.email} {user.email_verified ? <Badge highContrast color="green">verified</Badge> : <Badge highContrast color="orange">not verified</Badge>}</Text>
          <Field id="profile-name" label="Name" autoComplete="name" {...form.register("name")} error={form.formState.errors.name?.message} />
          {saved ? <Text role="status" color="green" data-testid="profile-saved">Saved.</Text> : null}
          <Button type="submit" loading={form.formState.isSubmitting} style={{ alignSelf: "start" }}>Save</Button>
        </Flex>
      </form>
    </Card>
  );
}

function PasswordCard() {
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const form = useForm<z.infer<typeof passwordSchema>>({ resolver: zodResolver(passwordSchema), defaultValues: { current_password: "", new_password: "", confirm: "" } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    setSaved(false);
    try {
      unwrap(await api.POST("/v1/me/password", { body: { current_password: v.current_password, new_password: v.new_password } }));
      form.reset();
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  });
  return (
    <Card>
      <form onSubmit={submit} noValidate aria-labelledby="password-heading">
        <Flex direction="column" gap="3" maxWidth="480px">
          <Heading as="h2" size="4" id="password-heading">Change password</Heading>
          {error ? <ProblemCallout error={error} /> : null}
          <Field id="current-password" label="Current password" type="password" autoComplete="current-password" {...form.register("current_password")} error={form.formState.errors.current_password?.message} />
          <Field id="new-password" label="New password" type="password" autoComplete="new-password" {...form.register("new_password")} error={form.formState.errors.new_password?.message} />
          <Field id="confirm-password" label="Repeat the new password" type="password" autoComplete="new-password" {...form.register("confirm")} error={form.formState.errors.confirm?.message} />
          {saved ? <Text role="status" color="green" data-testid="password-saved">Your password was changed.</Text> : null}
          <Button type="submit" loading={form.formState.isSubmitting} style={{ alignSelf: "start" }}>Change password</Button>
        </Flex>
      </form>
    </Card>
  );
}

function SessionsCard() {
  const queries = useQueryClient();
  const sessions = useQuery({ queryKey: ["sessions"], queryFn: async () => unwrap(await api.GET("/v1/me/sessions")) });
  const revoke = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/v1/me/sessions/{session_id}", { params: { path: { session_id: id } } })),
    onSettled: () => queries.invalidateQueries({ queryKey: ["sessions"] }),
  });
  return (
    <Card>
      <Flex direction="column" gap="3">
        <Heading as="h2" size="4">Sessions</Heading>
        {revoke.isError ? <ProblemCallout error={revoke.error} /> : null}
        {sessions.isPending ? <Loading label="Loading sessions" /> : sessions.isError ? <ProblemCallout error={sessions.error} /> :
          sessions.data.data.length === 0 ? <Empty>No session.</Empty> : (
            <Box overflowX="auto">
              <KeyboardScroll label="Sessions"><Table.Root size="1" aria-label="Sessions">
                <Table.Header>
                  <Table.Row>
                    <Table.ColumnHeaderCell>Browser</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>Address</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>Signed in</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>Last used</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>Actions</Table.ColumnHeaderCell>
                  </Table.Row>
                </Table.Header>
                <Table.Body>
                  {sessions.data.data.map((s) => (
                    <Table.Row key={s.id} data-testid="session-row">
                      <Table.Cell style={{ maxWidth: 280, overflowWrap: "anywhere" }}>{s.user_agent ?? "unknown"} {s.current ? <Badge highContrast color="green">this browser</Badge> : null}</Table.Cell>
                      <Table.Cell>{s.ip ?? "—"}</Table.Cell>
                      <Table.Cell>{formatInstant(s.created_at)}</Table.Cell>
                      <Table.Cell>{formatInstant(s.last_used_at)}</Table.Cell>
                      <Table.Cell>
                        {s.current ? null : (
                          <AlertDialog.Root>
                            <AlertDialog.Trigger><Button size="1" color="red" variant="soft" aria-label={`Revoke the session from ${s.ip ?? "unknown"} signed in ${formatInstant(s.created_at)}`}>Revoke</Button></AlertDialog.Trigger>
                            <AlertDialog.Content maxWidth="420px">
                              <AlertDialog.Title>Revoke this session?</AlertDialog.Title>
                              <AlertDialog.Description>That browser is signed out at its next call.</AlertDialog.Description>
                              <Flex gap="3" mt="4" justify="end">
                                <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
                                <AlertDialog.Action><Button color="red" onClick={() => revoke.mutate(s.id)}>Revoke session</Button></AlertDialog.Action>
                              </Flex>
                            </AlertDialog.Content>
                          </AlertDialog.Root>
                        )}
                      </Table.Cell>
                    </Table.Row>
                  ))}
                </Table.Body>
              </Table.Root></KeyboardScroll>
            </Box>
          )}
      </Flex>
    </Card>
  );
}
