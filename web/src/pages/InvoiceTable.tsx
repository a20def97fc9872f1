import { Badge, Table } from "@radix-ui/themes";
import type { ReactNode } from "react";
import type { Schemas } from "../api/types";
import { formatCents } from "../lib/format";
import { KeyboardScroll } from "./Pager";

type Invoice = Schemas["InvoiceResponse"];
type InvoiceStatus = NonNullable<Invoice["status"]>;
const invoiceColour: Record<InvoiceStatus, "gray" | "blue" | "green" | "red"> = { draft: "gray", open: "blue", paid: "green", void: "gray", uncollectible: "red" };

const day = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleDateString("en-GB", { timeZone: "UTC" }) : "—");

/**
 * Lists invoices as the tenant's billing screen and the operator's tenant detail both show them: number, period, status, total in the
 * invoice's currency, and a last column the screen fills (the tenant's detail dialog, the operator's mark-paid action).
 */
export function InvoiceTable({ invoices, rowTestId, lastColumn, renderLast }: {
  invoices: Invoice[]; rowTestId(invoice: Invoice): string; lastColumn: string; renderLast(invoice: Invoice): ReactNode;
}) {
  return (
    <KeyboardScroll label="Invoices"><Table.Root variant="surface" aria-label="Invoices">
      <Table.Header>
        <Table.Row>
          <Table.ColumnHeaderCell>Number</Table.ColumnHeaderCell>
          <Table.ColumnHeaderCell>Period</Table.ColumnHeaderCell>
          <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
          <Table.ColumnHeaderCell justify="end">Total</Table.ColumnHeaderCell>
          <Table.ColumnHeaderCell>{lastColumn}</Table.ColumnHeaderCell>
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {invoices.map((i) => (
          <Table.Row key={i.id} data-testid={rowTestId(i)}>
            <Table.Cell>#{i.number}</Table.Cell>
            <Table.Cell>{day(i.period_start)} – {day(i.period_end)}</Table.Cell>
            <Table.Cell><Badge highContrast color={i.status ? invoiceColour[i.status] : "gray"} data-testid="invoice-status">{i.status}</Badge></Table.Cell>
            <Table.Cell justify="end">{formatCents(i.total_cents, i.currency)}</Table.Cell>
            <Table.Cell>{renderLast(i)}</Table.Cell>
          </Table.Row>
        ))}
      </Table.Body>
    </Table.Root></KeyboardScroll>
  );
}
