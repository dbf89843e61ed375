// The cdktf app: bundles main.ts with esbuild (no type check; `npm run typecheck` does that, and
// `npm test` runs it) and runs the bundle. About half the time and memory of running through a
// TypeScript loader. A bad setting prints one clear line instead of a stack trace.
const { buildSync } = require("esbuild");
const path = require("node:path");

const root = path.join(__dirname, "..");
const bundle = path.join(root, ".build", "main.js");
// Dependencies load from node_modules, except zod: the settings schema's few functions, bundled and
// tree-shaken, load in about a sixth of the time zod's modules take.
const { dependencies } = require(path.join(root, "package.json"));
const external = Object.keys(dependencies).filter((name) => name !== "zod");
buildSync({
  entryPoints: [path.join(root, "main.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  external: [...external, ...external.map((name) => `${name}/*`)],
  outfile: bundle,
  logLevel: "warning",
});
try {
  require(bundle);
} catch (error) {
  if (error && error.name === "SettingError") {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
