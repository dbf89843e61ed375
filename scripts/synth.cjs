// The cdktf app: bundles main.ts with esbuild (no type check; `npm run typecheck` does that, and
// `npm test` runs it) and runs the bundle. A bad setting prints one clear line instead of a stack trace.
//
// Why a bundle of everything, cdktf and the provider classes included: one file parses and runs in
// about two thirds of the time node takes to resolve and load several hundred modules. Building it
// takes longer than running it, so the bundle is rebuilt only when one of its inputs changed.
//
// The engine (scripts/engine.cjs) is CDK_ENGINE's: cdktf (default) or cdktn, which the bundle loads for
// every `cdktf` import, the provider bindings' too. Each engine has a bundle and manifest of its own
// (.build/main.js, .build/main.cdktn.js), so switching engines never runs the other's bundle.
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const vm = require("node:vm");
const { buildFiles, bundleAlias, cliMismatch, engineFromEnv, libraryOf } = require("./engine.cjs");

const root = path.join(__dirname, "..");
let engine;
try {
  engine = engineFromEnv();
  // `npx cdktn deploy` must not quietly synthesize with cdktf (or `npx cdktf` with cdktn).
  const mismatch = cliMismatch(engine);
  if (mismatch) throw mismatch;
} catch (error) {
  console.error(`error: ${error.message}`);
  process.exit(1);
}
const { bundle, manifest } = buildFiles(engine);

/** A file's size and modification time: the bundle is current while its inputs' and its own are unchanged. */
function stamp(file) {
  const { size, mtimeMs } = fs.statSync(path.join(root, file));
  return `${size}:${mtimeMs}`;
}

function upToDate() {
  try {
    const inputs = JSON.parse(fs.readFileSync(manifest, "utf8"));
    return fs.existsSync(bundle) && Object.entries(inputs).every(([file, seen]) => stamp(file) === seen);
  } catch {
    return false; // no manifest yet, or an input is gone
  }
}

// Every token cdktf creates records the whole call stack (Error.stackTraceLimit = Infinity) for its
// own error messages; that is a sixth of synth. The app already turns construct stack traces off.
// cdktn keeps the module but calls `captureCreationStack` (off with CDKTN_DISABLE_CREATION_STACK=1),
// so the stand-in exports both names, whichever engine's module it replaces.
const noTokenStacks = {
  name: "no-token-creation-stacks",
  setup(build) {
    build.onLoad({ filter: /[\\/]cdkt[fn][\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/ }, () => ({
      contents: "exports.captureStackTrace = () => [];\nexports.captureCreationStack = () => [];",
      loader: "js",
    }));
  },
};

async function build() {
  const esbuild = require("esbuild");
  const result = await esbuild.build({
    // Metafile paths are relative to this; the manifest resolves them against the project, whatever the cwd.
    absWorkingDir: root,
    entryPoints: [path.join(root, "main.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile: bundle,
    metafile: true,
    // A node_modules reached through a symlink (the fork proof links this checkout's) is named by the
    // link's path, inside the project, so the manifest never names a file outside it.
    preserveSymlinks: true,
    logLevel: "warning",
    alias: bundleAlias(engine),
    plugins: [noTokenStacks],
  });
  // The bundle itself too: another build writing it (an older checkout's synth) must not pass for this one.
  const files = [
    ...Object.keys(result.metafile.inputs),
    ...["synth.cjs", "engine.cjs"].map((script) => path.relative(root, path.join(__dirname, script))),
    path.relative(root, bundle),
  ];
  fs.writeFileSync(manifest, JSON.stringify(Object.fromEntries(files.map((file) => [file, stamp(file)]))));
}

/**
 * Runs the bundle as `require` would, with V8's code cache beside it (`<bundle>.v8cache`): compiling
 * some megabytes of JavaScript is a good part of each synth, and the cache skips it until the bundle
 * changes (V8 rejects a cache made for other source, and it is written again). What
 * `module.enableCompileCache()` does from Node 22, on Node 20.
 */
function requireWithCodeCache(file) {
  const cacheFile = `${file}.v8cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // none yet
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, "utf8")), { filename: file, cachedData });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  // After the run, so the functions it compiled lazily are in the cache too.
  if (!cachedData || script.cachedDataRejected) {
    try {
      fs.writeFileSync(cacheFile, script.createCachedData());
    } catch {
      // a read-only checkout synthesizes as fast as before the cache
    }
  }
}

function run() {
  try {
    requireWithCodeCache(bundle);
  } catch (error) {
    if (error && error.name === "SettingError") {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

if (upToDate()) run();
else {
  try {
    libraryOf(engine); // a missing engine says so in one line, not as esbuild's "Could not resolve"
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  build().then(run, (error) => {
    console.error(error.message);
    process.exit(1);
  });
}
