/** Reads the one-time code the SSO callback put in the URL's fragment (#code=…; ADR 0620): the fragment never reaches a server or a proxy's log. */
export function codeFromFragment(hash: string): string | null {
  const code = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash).get("code");
  return code && code.length > 0 && code.length <= 512 ? code : null;
}

/** Reads email domains typed with commas, spaces or new lines: trimmed, lower-cased, without duplicates (the API normalises them too). */
export function parseDomains(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((d) => d.trim().toLowerCase()).filter((d) => d !== ""))];
}

/** Reads group-to-role lines ("engineering admin"); a line that is not "group role" is an error naming it. */
export function parseGroupRoles(text: string): { value: Record<string, string> } | { error: string } {
  const value: Record<string, string> = {};
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const m = /^(\S+)\s+(admin|member|viewer)$/.exec(line);
    if (!m) return { error: `Line ${n + 1}: write a group, a space and a role (admin, member or viewer).` };
    value[m[1]] = m[2];
  }
  return { value };
}

/** Writes group roles one "group role" a line, groups in name order. */
export function formatGroupRoles(roles: Record<string, string> | null | undefined): string {
  return Object.keys(roles ?? {}).sort().map((g) => `${g} ${roles![g]}`).join("\n");
}
