/** Tells whether a host could be a tenant's ({slug}.{base host} or a custom domain): IP literals and bare localhost never are, so they skip the lookup. */
export function mayBeTenantHost(host: string): boolean {
  const name = host.replace(/:\d+$/, "").toLowerCase();
  if (name === "localhost" || name.startsWith("[") || /^\d+(\.\d+){3}$/.test(name)) return false;
  return name.includes(".");
}

/** Tells whether a colour is the #rrggbb form the branding API takes (either case). */
export function isHexColour(value: string): boolean {
  return /^#[0-9a-fA-F]{6}$/.test(value.trim());
}

/** Reads a file or blob as base64, as PUT …/branding takes the logo image (logo_png). */
export async function readBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
