import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The API serves dist/ at / and /admin (src/Api/Hosting/WebApp.cs); `npm run dev` proxies the API of ./platform run.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, reportCompressedSize: true, chunkSizeWarningLimit: 1024 },
  server: { proxy: { "/v1": "http://127.0.0.1:5080", "/openapi": "http://127.0.0.1:5080" } },
  test: { include: ["src/**/*.test.ts", "test/**/*.test.ts"], environment: "node" },
});
