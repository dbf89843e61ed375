// Bundles the API, the worker and the jobs into dist/ (what the image runs): one file per entry point, ES modules, node's own
// modules external. `require` is provided for the CommonJS packages inside the bundle.
import { build } from "esbuild";

await build({
  entryPoints: {
    server: "src/server.ts",
    worker: "src/worker.ts",
    housekeeping: "src/housekeeping.ts",
    migrate: "src/migrate.ts",
    healthcheck: "src/healthcheck.ts",
    // The OpenTelemetry SDK, apart: imported by the API and the worker only when tracing is on (src/telemetry.ts).
    tracing: "src/tracing.ts",
  },
  absWorkingDir: import.meta.dirname,
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  // pg's optional native binding is never used.
  external: ["pg-native"],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: "none",
  logLevel: "warning",
});
