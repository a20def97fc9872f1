/** Parses a JSON object typed in a text area: empty is {}, anything but an object is an error message. */
export function parseJsonObject(text: string): { value: Record<string, unknown> } | { error: string } {
  if (text.trim() === "") return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "Enter a JSON object, such as {\"temperature\": 0.2}" };
    return { value: value as Record<string, unknown> };
  } catch {
    return { error: "Not valid JSON" };
  }
}

/** Parses an optional positive whole number: empty is null (no limit), anything else that is not one is an error message. */
export function parseOptionalLimit(text: string): { value: number | null } | { error: string } {
  const t = text.trim();
  if (t === "") return { value: null };
  if (!/^\d+$/.test(t) || Number(t) < 1) return { error: "A whole number of at least 1, or empty" };
  return { value: Number(t) };
}
