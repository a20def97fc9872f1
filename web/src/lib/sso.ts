/** Reads the one-time code the SSO callback put in the URL's fragment (#code=…; ADR 0620): the fragment never reaches a server or a proxy's log. */
export function codeFromFragment(hash: string): string | null {
  const code = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash).get("code");
  return code && code.length > 0 && code.length <= 512 ? code : null;
}
