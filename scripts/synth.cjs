// The cdktf app: bundles main.ts with esbuild (no type check; `npm run typecheck` does that, and
// `npm test` runs it) and runs the bundle. A bad setting prints one clear line instead of a stack trace.
//
// Why a bundle of everything, cdktf and the provider classes included: one file parses and runs in
// about two thirds of the time node takes to resolve and load several hundred modules. Building it
// takes longer than running it, so the bundle is rebuilt only when one of its inputs changed.
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const bundle = path.join(root, ".build", "main.js");
const manifest = path.join(root, ".build", "main.inputs.json");

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
const noTokenStacks = {
  name: "no-token-creation-stacks",
  setup(build) {
    build.onLoad({ filter: /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/ }, () => ({
      contents: "exports.captureStackTrace = () => [];",
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
    logLevel: "warning",
    plugins: [noTokenStacks],
  });
  // The bundle itself too: another build writing it (an older checkout's synth) must not pass for this one.
  const files = [...Object.keys(result.metafile.inputs), path.relative(root, path.join(__dirname, "synth.cjs")), path.relative(root, bundle)];
  fs.writeFileSync(manifest, JSON.stringify(Object.fromEntries(files.map((file) => [file, stamp(file)]))));
}

function run() {
  try {
    require(bundle);
  } catch (error) {
    if (error && error.name === "SettingError") {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

if (upToDate()) run();
else
  build().then(run, (error) => {
    console.error(error.message);
    process.exit(1);
  });
