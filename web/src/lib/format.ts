/** Formats integer cents as US dollars ("$1,234.50"); money is never held as a float in the API. */
export function formatCents(cents: number, currency = "USD"): string {
  if (!Number.isInteger(cents)) throw new Error(`cents must be an integer, got ${cents}`);
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  const fraction = String(abs % 100).padStart(2, "0");
  // The API names currencies in lower case ("usd"), as Stripe does.
  const code = currency.toUpperCase();
  const symbol = code === "USD" ? "$" : `${code} `;
  return `${sign}${symbol}${whole}.${fraction}`;
}

export type UsageColour = "green" | "yellow" | "red";

/** Colours a usage bar: green under 70 %, yellow under 90 %, red from 90 % (seed 003's thresholds). */
export function usageColour(used: number, limit: number | null | undefined): UsageColour {
  if (limit === null || limit === undefined || limit <= 0) return used > 0 && limit === 0 ? "red" : "green";
  const percent = (used / limit) * 100;
  if (percent >= 90) return "red";
  if (percent >= 70) return "yellow";
  return "green";
}

/** Turns a tenant name into a slug the API accepts (lower-case letters, digits and single dashes, 3-40 characters). */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
}
