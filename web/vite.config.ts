import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The dist is committed and embedded in the `automations` binary (server/src/web.rs), so
// the build must be reproducible: hashed asset names, no source maps, no timestamps.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
