// The cdktf app: bundles main.ts with esbuild (no type check; `npm run typecheck` does that, and
// `npm test` runs it) and runs the bundle. A bad setting prints one clear line instead of a stack trace.
//
// Why a bundle of everything, cdktf and the provider classes included: one file parses and runs in
// about two thirds of the time node takes to resolve and load several hundred modules. Building it
// takes longer than running it, so the bundle is rebuilt only when one of its inputs changed.
//
// Both caches are keyed by content, never by size or time: the bundle by a SHA-256 of every file esbuild
// read (and of the bundle itself), V8's code cache by a SHA-256 of the bundle it was made from. Hashing
// the inputs (about 20 MB) costs some 30 ms; a cache keyed by anything less once ran yesterday's code
// (V8 checks only a code cache's source length, so an edit that kept the bundle's length was lost).
//
// The engine (scripts/engine.cjs) is CDK_ENGINE's: cdktf (default) or cdktn, which the bundle loads for
// every `cdktf` import, the provider bindings' too. Each engine has a bundle and manifest of its own
// (.build/main.js, .build/main.cdktn.js), so switching engines never runs the other's bundle.
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const vm = require("node:vm");
const { createHash } = require("node:crypto");
const { buildFiles, bundleAlias, cliMismatch, engineFromEnv, libraryOf } = require("./engine.cjs");

const root = path.join(__dirname, "..");

/** The SHA-256 of a file's content, by its path from the project's root. */
function fingerprint(file) {
  return createHash("sha256")
    .update(fs.readFileSync(path.join(root, file)))
    .digest("hex");
}

/** Writes beside and renames, so a synth running at the same time never reads half a file. */
function writeAtomically(file, content) {
  const aside = `${file}.${process.pid}`;
  fs.writeFileSync(aside, content);
  fs.renameSync(aside, file);
}

function upToDate({ bundle, manifest }) {
  try {
    const inputs = JSON.parse(fs.readFileSync(manifest, "utf8"));
    return fs.existsSync(bundle) && Object.entries(inputs).every(([file, seen]) => fingerprint(file) === seen);
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

/**
 * How the engine's bundle of `entry` is built: the synth app's, and any other program that must
 * synthesize exactly as it does (__tests__/tooling/synth-paths.test.ts bundles the example variants so).
 */
function esbuildOptions(engine, entry, outfile) {
  return {
    // Metafile paths are relative to this; the manifest resolves them against the project, whatever the cwd.
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node22",
    outfile,
    // A node_modules reached through a symlink (the fork proof links this checkout's) is named by the
    // link's path, inside the project, so the manifest never names a file outside it.
    preserveSymlinks: true,
    logLevel: "warning",
    alias: bundleAlias(engine),
    plugins: [noTokenStacks],
  };
}

async function build(engine, { bundle, manifest }) {
  const esbuild = require("esbuild");
  // Written by us, atomically, not by esbuild in place.
  const result = await esbuild.build({ ...esbuildOptions(engine, path.join(root, "main.ts"), bundle), write: false, metafile: true });
  const [output] = result.outputFiles;
  fs.mkdirSync(path.dirname(bundle), { recursive: true });
  writeAtomically(bundle, output.contents);
  // The bundle itself too: another build writing it (an older checkout's synth) must not pass for this one.
  const files = [
    ...Object.keys(result.metafile.inputs),
    ...["synth.cjs", "engine.cjs"].map((script) => path.relative(root, path.join(__dirname, script))),
    path.relative(root, bundle),
  ];
  writeAtomically(manifest, JSON.stringify(Object.fromEntries(files.map((file) => [file, fingerprint(file)]))));
}

/**
 * Runs the bundle as `require` would, with V8's code cache beside it (`<bundle>.v8cache`): compiling
 * some megabytes of JavaScript is a good part of each synth, and the cache skips it. The cache file
 * starts with the SHA-256 of the source it was made from and is used only for that source: V8's own
 * check compares the source's length, not its content. What `module.enableCompileCache()` does from
 * Node 22, by hand, so the key is ours.
 */
function requireWithCodeCache(file) {
  const cacheFile = `${file}.v8cache`;
  const source = fs.readFileSync(file);
  const sourceHash = createHash("sha256").update(source).digest();
  let cachedData;
  try {
    const cache = fs.readFileSync(cacheFile);
    if (cache.subarray(0, sourceHash.length).equals(sourceHash)) cachedData = cache.subarray(sourceHash.length);
  } catch {
    // none yet
  }
  const script = new vm.Script(Module.wrap(source.toString("utf8")), { filename: file, cachedData });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  // After the run, so the functions it compiled lazily are in the cache too.
  if (!cachedData || script.cachedDataRejected) {
    try {
      writeAtomically(cacheFile, Buffer.concat([sourceHash, script.createCachedData()]));
    } catch {
      // a read-only checkout synthesizes as fast as before the cache
    }
  }
}

function run(bundle) {
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

function main() {
  let engine;
  try {
    engine = engineFromEnv();
    // `npx cdktn deploy` must not quietly synthesize with cdktf (or `npx cdktf` with cdktn).
    const mismatch = cliMismatch(engine);
    if (mismatch) throw mismatch;
    libraryOf(engine); // a missing engine says so in one line, not as esbuild's "Could not resolve"
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  const files = buildFiles(engine);
  if (upToDate(files)) return run(files.bundle);
  build(engine, files).then(
    () => run(files.bundle),
    (error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}

module.exports = { esbuildOptions, requireWithCodeCache };

if (require.main === module) main();
