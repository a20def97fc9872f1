import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

// The budget: the tenant app's initial JavaScript (the entry script and the chunks index.html preloads) at most 250 KB gzipped.
// It reads the build that ./platform test makes before the unit tests run (build_web).
const dist = join(import.meta.dirname, "..", "dist");
const budget = 250 * 1024;

describe("initial JavaScript", () => {
  it("fits in 250 KB gzipped", () => {
    const index = readFileSync(join(dist, "index.html"), "utf8");
    const scripts = [...index.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/([^"]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((sum, file) => sum + gzipSync(readFileSync(join(dist, file))).length, 0);
    console.log(`initial JavaScript: ${scripts.join(", ")} = ${(gzipped / 1024).toFixed(1)} KB gzipped (budget 250 KB)`);
    expect(gzipped).toBeLessThanOrEqual(budget);
  });
});
