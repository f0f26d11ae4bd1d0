import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Tests import "taskmill" exactly as users do; it resolves to the sources.
    // (More specific entry points first: "taskmill" would also match "taskmill/…".)
    alias: {
      "taskmill/prometheus": fileURLToPath(
        new URL("./src/observability/prometheus.ts", import.meta.url),
      ),
      "taskmill/admin": fileURLToPath(new URL("./src/admin/index.ts", import.meta.url)),
      taskmill: fileURLToPath(new URL("./src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
