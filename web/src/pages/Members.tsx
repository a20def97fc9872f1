import { AlertDialog, Badge, Button, Dialog, Flex, Heading, Select, Table, Text } from "@radix-ui/themes";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useOutletContext } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import { roles, type Invitation, type Member, type Membership, type Role } from "../api/types";
import { Empty, Loading, ProblemCallout } from "../components";
import { Field } from "./AuthPages";

const roleColour: Record<Role, "gray" | "blue" | "violet" | "amber"> = { viewer: "gray", member: "blue", admin: "violet", owner: "amber" };

export function RoleBadge({ role }: { role: Role }) {
  return <Badge highContrast color={roleColour[role]} data-testid="role-badge">{role}</Badge>;
}

function canManage(role: Role) {
  return role === "owner" || role === "admin";
}

export function MembersPage() {
  const me = useOutletContext<Membership>();
  const tenantId = me.tenant_id;
  const queries = useQueryClient();
  const [actionError, setActionError] = useState<unknown>(null);
  const members = useQuery({
    queryKey: ["members", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/members", { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ["members", tenantId] });
  const changeRole = useMutation({
    mutationFn: async ({ userId, role }: { userId: string; role: Role }) =>
      unwrap(await api.PATCH("/v1/tenants/{tenant_id}/members/{user_id}", { params: { path: { tenant_id: tenantId, user_id: userId } }, body: { role } })),
    onMutate: () => setActionError(null),
    onError: setActionError,
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: async (userId: string) => {
      const r = await api.DELETE("/v1/tenants/{tenant_id}/members/{user_id}", { params: { path: { tenant_id: tenantId, user_id: userId } } });
      unwrap(r);
    },
    onMutate: () => setActionError(null),
    onError: setActionError,
    onSettled: refresh,
  });

  const manage = canManage(me.role);
  const column = createColumnHelper<Member>();
  const columns = useMemo(() => [
    column.accessor("name", { header: "Name" }),
    column.accessor("email", { header: "Email" }),
    column.accessor("role", {
      header: "Role",
      cell: (c) => manage ? (
        <Flex gap="2" align="center">
          <RoleBadge role={c.getValue()} />
          <Select.Root value={c.getValue()} onValueChange={(role) => changeRole.mutate({ userId: c.row.original.user_id, role: role as Role })}>
            <Select.Trigger variant="ghost" aria-label={`Role of ${c.row.original.email}`} />
            <Select.Content>{roles.map((r) => <Select.Item key={r} value={r}>{r}</Select.Item>)}</Select.Content>
          </Select.Root>
        </Flex>
      ) : <RoleBadge role={c.getValue()} />,
    }),
    column.accessor("created_at", { header: "Member since", cell: (c) => new Date(c.getValue()).toLocaleDateString("en-GB") }),
    column.display({
      id: "actions",
      header: "Actions",
      cell: (c) => manage ? <RemoveButton member={c.row.original} onConfirm={() => remove.mutate(c.row.original.user_id)} /> : null,
    }),
  ], [column, manage, changeRole, remove]);
  const table = useReactTable({ data: members.data?.data ?? [], columns, getCoreRowModel: getCoreRowModel() });

  return (
    <Flex direction="column" gap="5">
      <Flex align="center" justify="between" wrap="wrap" gap="3">
        <Heading as="h2" size="4">Members</Heading>
        {manage ? <InviteDialog tenantId={tenantId} /> : null}
      </Flex>
      {actionError ? <ProblemCallout error={actionError} /> : null}
      {members.isPending ? <Loading label="Loading members" /> : members.isError ? <ProblemCallout error={members.error} /> :
        members.data.data.length === 0 ? <Empty>No members yet.</Empty> : (
          <Table.Root variant="surface" aria-label="Members">
            <Table.Header>
              {table.getHeaderGroups().map((g) => (
                <Table.Row key={g.id}>
                  {g.headers.map((h) => <Table.ColumnHeaderCell key={h.id}>{flexRender(h.column.columnDef.header, h.getContext())}</Table.ColumnHeaderCell>)}
                </Table.Row>
              ))}
            </Table.Header>
            <Table.Body>
              {table.getRowModel().rows.map((row) => (
                <Table.Row key={row.id} data-testid={`member-${row.original.email}`}>
                  {row.getVisibleCells().map((cell) => <Table.Cell key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</Table.Cell>)}
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        )}
      {manage ? <PendingInvitations tenantId={tenantId} /> : null}
    </Flex>
  );
}

function RemoveButton({ member, onConfirm }: { member: Member; onConfirm: () => void }) {
  return (
    <AlertDialog.Root>
      <AlertDialog.Trigger>
        <Button color="red" variant="soft" size="1" aria-label={`Remove ${member.email}`}>Remove</Button>
      </AlertDialog.Trigger>
      <AlertDialog.Content maxWidth="420px">
        <AlertDialog.Title>Remove {member.name}?</AlertDialog.Title>
        <AlertDialog.Description>{member.email} loses access to this tenant at once.</AlertDialog.Description>
        <Flex gap="3" mt="4" justify="end">
          <AlertDialog.Cancel><Button variant="soft" color="gray">Cancel</Button></AlertDialog.Cancel>
          <AlertDialog.Action><Button color="red" onClick={onConfirm}>Remove member</Button></AlertDialog.Action>
        </Flex>
      </AlertDialog.Content>
    </AlertDialog.Root>
  );
}

const inviteSchema = z.object({ email: z.string().trim().email("Enter an email address"), role: z.enum(["viewer", "member", "admin", "owner"]) });

function InviteDialog({ tenantId }: { tenantId: string }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const queries = useQueryClient();
  const form = useForm<z.infer<typeof inviteSchema>>({ resolver: zodResolver(inviteSchema), defaultValues: { email: "", role: "member" } });
  const submit = form.handleSubmit(async (v) => {
    setError(null);
    try {
      unwrap(await api.POST("/v1/tenants/{tenant_id}/invitations", { params: { path: { tenant_id: tenantId } }, body: v }));
      await queries.invalidateQueries({ queryKey: ["invitations", tenantId] });
      form.reset();
      setOpen(false);
    } catch (e) {
      setError(e);
    }
  });
  return (
    <Dialog.Root open={open} onOpenChange={(o) => { setOpen(o); setError(null); }}>
      <Dialog.Trigger><Button>Invite member</Button></Dialog.Trigger>
      <Dialog.Content maxWidth="440px">
        <Dialog.Title>Invite a member</Dialog.Title>
        <Dialog.Description size="2" mb="3">They get an email with a link to join this tenant.</Dialog.Description>
        <form onSubmit={submit} noValidate>
          <Flex direction="column" gap="3">
            {error ? <ProblemCallout error={error} /> : null}
            <Field id="invite-email" label="Email" type="email" {...form.register("email")} error={form.formState.errors.email?.message} />
            <Flex direction="column" gap="1">
              <Text as="label" id="invite-role-label" size="2" weight="medium">Role</Text>
              <Controller control={form.control} name="role" render={({ field }) => (
                <Select.Root value={field.value} onValueChange={field.onChange}>
                  <Select.Trigger aria-labelledby="invite-role-label" />
                  <Select.Content>{roles.map((r) => <Select.Item key={r} value={r}>{r}</Select.Item>)}</Select.Content>
                </Select.Root>
              )} />
            </Flex>
            <Flex gap="3" justify="end">
              <Dialog.Close><Button type="button" variant="soft" color="gray">Cancel</Button></Dialog.Close>
              <Button type="submit" loading={form.formState.isSubmitting}>Send invitation</Button>
            </Flex>
          </Flex>
        </form>
      </Dialog.Content>
    </Dialog.Root>
  );
}

function PendingInvitations({ tenantId }: { tenantId: string }) {
  const queries = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const invitations = useQuery({
    queryKey: ["invitations", tenantId],
    queryFn: async () => unwrap(await api.GET("/v1/tenants/{tenant_id}/invitations", { params: { path: { tenant_id: tenantId }, query: { status: "pending", limit: 100 } } })),
  });
  const act = useMutation({
    mutationFn: async ({ invitation, action }: { invitation: Invitation; action: "resend" | "revoke" }) => {
      const path = { tenant_id: tenantId, invitation_id: invitation.id };
      if (action === "resend") unwrap(await api.POST("/v1/tenants/{tenant_id}/invitations/{invitation_id}/resend", { params: { path } }));
      else unwrap(await api.DELETE("/v1/tenants/{tenant_id}/invitations/{invitation_id}", { params: { path } }));
      return `${action === "resend" ? "Sent the invitation again to" : "Revoked the invitation of"} ${invitation.email}.`;
    },
    onMutate: () => { setError(null); setNotice(null); },
    onSuccess: setNotice,
    onError: setError,
    onSettled: () => queries.invalidateQueries({ queryKey: ["invitations", tenantId] }),
  });
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="4">Pending invitations</Heading>
      {error ? <ProblemCallout error={error} /> : null}
      {notice ? <Text role="status" size="2" color="green">{notice}</Text> : null}
      {invitations.isPending ? <Loading label="Loading invitations" /> : invitations.isError ? <ProblemCallout error={invitations.error} /> :
        invitations.data.data.length === 0 ? <Empty>No pending invitations.</Empty> : (
          <Table.Root variant="surface" aria-label="Pending invitations">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Email</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Role</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Expires</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Actions</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {invitations.data.data.map((i) => (
                <Table.Row key={i.id} data-testid={`invitation-${i.email}`}>
                  <Table.Cell>{i.email}</Table.Cell>
                  <Table.Cell><RoleBadge role={i.role} /></Table.Cell>
                  <Table.Cell>{new Date(i.expires_at).toLocaleDateString("en-GB")}</Table.Cell>
                  <Table.Cell>
                    <Flex gap="2">
                      <Button size="1" variant="soft" onClick={() => act.mutate({ invitation: i, action: "resend" })} aria-label={`Resend to ${i.email}`}>Resend</Button>
                      <Button size="1" variant="soft" color="red" onClick={() => act.mutate({ invitation: i, action: "revoke" })} aria-label={`Revoke ${i.email}`}>Revoke</Button>
                    </Flex>
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        )}
    </Flex>
  );
}
