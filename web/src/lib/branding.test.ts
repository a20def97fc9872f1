import { describe, expect, it } from "vitest";
import { brandingSchema } from "../pages/Branding";
import { isHexColour, mayBeTenantHost, readBase64 } from "./branding";

describe("public branding lookup", () => {
  it("asks only for hosts a tenant could be served on", () => {
    expect(mayBeTenantHost("acme.platform.localhost:5000")).toBe(true);
    expect(mayBeTenantHost("app.example.com")).toBe(true);
    expect(mayBeTenantHost("127.0.0.1:5000")).toBe(false);
    expect(mayBeTenantHost("[::1]:5000")).toBe(false);
    expect(mayBeTenantHost("localhost:5173")).toBe(false);
  });
});

describe("branding form", () => {
  it("takes #rrggbb colours only", () => {
    expect(isHexColour("#1A4d8f")).toBe(true);
    expect(isHexColour("#fff")).toBe(false);
    expect(isHexColour("orange")).toBe(false);
  });

  it("takes https URLs or nothing, and names the field otherwise", () => {
    const base = { logo_url: "", custom_css_url: "", primary_color: "", product_name: "", email_sender_name: "" };
    expect(brandingSchema.safeParse(base).success).toBe(true);
    expect(brandingSchema.safeParse({ ...base, logo_url: "https://cdn.example.test/l.png", primary_color: "#ff5500" }).success).toBe(true);
    const insecure = brandingSchema.safeParse({ ...base, logo_url: "http://cdn.example.test/l.png" });
    expect(insecure.success).toBe(false);
    expect(insecure.error?.issues[0]?.path).toEqual(["logo_url"]);
    expect(brandingSchema.safeParse({ ...base, primary_color: "red" }).success).toBe(false);
  });
});

describe("logo image upload", () => {
  it("reads a file as the base64 PUT …/branding takes, in chunks for files larger than one call's arguments", async () => {
    expect(await readBase64(new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])]))).toBe("iVBORw==");
    const large = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    const text = await readBase64(new Blob([large]));
    expect(Uint8Array.from(atob(text), (c) => c.charCodeAt(0))).toEqual(large);
  });
});
