/**
 * Keeps the cursors of a list walked page by page: the API pages forward only (next_cursor), so "Previous" pops the cursor of the
 * page before. The first page's cursor is undefined.
 */
export interface CursorTrail {
  /** Cursors of the pages before the current one, oldest first. */
  readonly before: readonly (string | undefined)[];
  /** Cursor of the current page (undefined on the first). */
  readonly current: string | undefined;
}

export const firstPage: CursorTrail = { before: [], current: undefined };

export function nextPage(trail: CursorTrail, nextCursor: string | null | undefined): CursorTrail {
  if (!nextCursor) return trail;
  return { before: [...trail.before, trail.current], current: nextCursor };
}

export function previousPage(trail: CursorTrail): CursorTrail {
  if (trail.before.length === 0) return trail;
  return { before: trail.before.slice(0, -1), current: trail.before[trail.before.length - 1] };
}

export function pageNumber(trail: CursorTrail): number {
  return trail.before.length + 1;
}

/** Drops empty filter values so that the query string carries only the filters the user set. */
export function cleanFilters<T extends Record<string, string | undefined | null>>(filters: T): Partial<Record<keyof T, string>> {
  const out: Partial<Record<keyof T, string>> = {};
  for (const [k, v] of Object.entries(filters)) {
    const trimmed = typeof v === "string" ? v.trim() : "";
    if (trimmed) out[k as keyof T] = trimmed;
  }
  return out;
}

/** Is true when the typed confirmation matches the expected text exactly (the tenant's slug for a deletion), ignoring outer spaces. */
export function confirmationMatches(typed: string, expected: string): boolean {
  return expected.length > 0 && typed.trim() === expected;
}

/** Turns a local date input (yyyy-mm-dd) into the start (or the end) of that day in UTC as ISO 8601, or undefined when empty. */
export function dayBound(value: string, end = false): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  return `${value}T${end ? "23:59:59.999" : "00:00:00.000"}Z`;
}

/** Formats milliseconds as "850 ms" or "1.2 s". */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Formats an ISO instant as "06 Dec 2026, 20:41 UTC", or a dash when absent. */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString("en-GB", { timeZone: "UTC", day: "2-digit", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }) + " UTC";
}
