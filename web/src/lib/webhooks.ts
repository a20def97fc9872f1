/** Parses the event types a user ticked or typed: none chosen means every type (the API's null). */
export function eventTypesBody(chosen: readonly string[]): string[] | null {
  const unique = [...new Set(chosen.map((c) => c.trim()).filter(Boolean))];
  return unique.length === 0 ? null : unique;
}

/** Describes an endpoint's subscription for the list. */
export function describeEventTypes(types: readonly string[] | null | undefined): string {
  if (!types || types.length === 0) return "every event";
  return types.length <= 2 ? types.join(", ") : `${types.slice(0, 2).join(", ")} and ${types.length - 2} more`;
}

/** Parses the rate limit field: empty is no limit (null), else a whole number 1-10000, else an error message. */
export function parseRateLimit(text: string): { value: number | null } | { error: string } {
  const t = text.trim();
  if (t === "") return { value: null };
  if (!/^\d+$/.test(t)) return { error: "A whole number" };
  const n = Number(t);
  if (n < 1 || n > 10000) return { error: "Between 1 and 10,000" };
  return { value: n };
}

/** Parses an IP allowlist typed one entry a line ("203.0.113.0/24 office"): the CIDR, then an optional description. */
export function parseAllowlist(text: string): { cidr: string; description: string | null }[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [cidr, ...rest] = line.split(/\s+/);
      return { cidr, description: rest.length ? rest.join(" ") : null };
    });
}

/** Writes an allowlist back as the text the editor shows. */
export function formatAllowlist(entries: readonly { cidr: string; description?: string | null }[]): string {
  return entries.map((e) => (e.description ? `${e.cidr} ${e.description}` : e.cidr)).join("\n");
}
