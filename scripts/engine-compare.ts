/**
 * The engines' proof: what cdktf and cdktn synthesize, compared stack by stack. Every `cdk.tf.json`
 * (and `manifest.json`, whose annotations carry the stacks' warnings) must be the same JSON but for the
 * version metadata: `"//".metadata.version` of each stack, `version` of the manifest. Everything else,
 * construct paths and unique ids included, must match; a difference is named by stack and JSON pointer.
 * Whitespace is not compared: cdktn writes an empty list as `[]` where cdktf writes `[\n]`.
 *
 * Used by `__tests__/tooling/engines.test.ts` (every environment and variant, in-process) and by
 *
 *   npm run engines:compare                        # main.ts's stacks through the synth app on both engines
 *   npm run engines:compare -- <cdktf.out> <cdktf.out>   # any two synth outputs, e.g. of your own fleet
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineCommand, killOnInterrupt, onCleanup } from "../cli/cli.cjs";
import { ENGINES, libraryOf, type EngineName } from "./engine.cjs";

/** One place where the two engines' output differ. */
export interface Difference {
  /** The stack's name, or `manifest.json`. */
  readonly stack: string;
  /** RFC 6901 JSON pointer into the document, e.g. `/resource/aws_vpc/Network_Vpc_FAC8F4A5/cidr_block`. */
  readonly path: string;
  /** Each side's value there; undefined where that side has none. */
  readonly cdktf: unknown;
  readonly cdktn: unknown;
}

/** The only places the engines may differ: the version of the library that wrote the document. */
export const VERSION_METADATA = { stack: "/~1~1/metadata/version", manifest: "/version" } as const;

const pointer = (path: string, key: string | number) => `${path}/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
const kind = (value: unknown) => (Array.isArray(value) ? "array" : value === null ? "null" : typeof value);

/** Every JSON pointer where `a` and `b` differ, but for the `ignored` pointers; the deepest place each time. */
export function jsonDifferences(a: unknown, b: unknown, ignored: ReadonlySet<string> = new Set(), path = ""): { path: string; a: unknown; b: unknown }[] {
  if (ignored.has(path)) return [];
  if (kind(a) !== kind(b)) return [{ path, a, b }];
  if (Array.isArray(a)) {
    const other = b as unknown[];
    const length = Math.max(a.length, other.length);
    return Array.from({ length }, (_, i) =>
      i in a && i in other ? jsonDifferences(a[i], other[i], ignored, pointer(path, i)) : [{ path: pointer(path, i), a: a[i], b: other[i] }],
    ).flat();
  }
  if (a && typeof a === "object") {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
    return keys.flatMap((key) => {
      const at = pointer(path, key);
      if (ignored.has(at)) return [];
      if (!Object.hasOwn(x, key) || !Object.hasOwn(y, key)) return [{ path: at, a: x[key], b: y[key] }];
      return jsonDifferences(x[key], y[key], ignored, at);
    });
  }
  return Object.is(a, b) ? [] : [{ path, a, b }];
}

/** The stacks of a synth output folder (`<outdir>/stacks/<name>/cdk.tf.json`), sorted. */
export function stacksIn(outdir: string): string[] {
  const stacks = join(outdir, "stacks");
  return existsSync(stacks)
    ? readdirSync(stacks)
        .filter((name) => existsSync(join(stacks, name, "cdk.tf.json")))
        .sort()
    : [];
}

function readJson(file: string): unknown {
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
}

/**
 * The differences between cdktf's synth output folder and cdktn's: every stack either has (one only in one
 * folder is a difference at path ""), and the manifest; the version metadata excepted.
 */
export function compareOutdirs(cdktfOut: string, cdktnOut: string): Difference[] {
  const stacks = [...new Set([...stacksIn(cdktfOut), ...stacksIn(cdktnOut)])].sort();
  const documents = [
    ...stacks.map((stack) => ({ stack, file: join("stacks", stack, "cdk.tf.json"), ignored: VERSION_METADATA.stack })),
    { stack: "manifest.json", file: "manifest.json", ignored: VERSION_METADATA.manifest },
  ];
  return documents.flatMap(({ stack, file, ignored }) =>
    jsonDifferences(readJson(join(cdktfOut, file)), readJson(join(cdktnOut, file)), new Set([ignored])).map(({ path, a, b }) => ({
      stack,
      path,
      cdktf: a,
      cdktn: b,
    })),
  );
}

/** `dev: /resource/aws_vpc/X/cidr_block: cdktf "10.0.0.0/16", cdktn "10.1.0.0/16"`. */
export function describeDifference(d: Difference): string {
  const show = (value: unknown) => (value === undefined ? "(absent)" : JSON.stringify(value).slice(0, 200));
  return `${d.stack}: ${d.path || "(the whole document)"}: cdktf ${show(d.cdktf)}, cdktn ${show(d.cdktn)}`;
}

/** The synth app (scripts/synth.cjs) on one engine, writing into `outdir`. */
function synthApp(engine: EngineName, outdir: string): Promise<void> {
  return new Promise((done, fail) => {
    const env = { ...process.env, CDK_ENGINE: engine, CDKTF_OUTDIR: outdir };
    const child = killOnInterrupt(spawn(process.execPath, [resolve(__dirname, "synth.cjs")], { env, stdio: ["ignore", "ignore", "pipe"] }));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", fail);
    child.once("exit", (code) => (code === 0 ? done() : fail(new Error(`synth on ${engine} failed (${code}):\n${stderr}`))));
  });
}

if (require.main === module) {
  const command = defineCommand({
    name: "engines:compare",
    summary: "Compares what cdktf and cdktn synthesize, stack by stack: the same JSON but for the version metadata, or each difference.",
    args: "[<cdktf's cdktf.out> <cdktn's cdktf.out>]",
    argsHelp: ["without folders, main.ts's stacks synthesized with each engine into a temp folder (removed after)"],
    needs: ["both engines installed (cdktf and cdktn, as package.json pins them: docs/engines.md)"],
    examples: ["npm run engines:compare", "npm run engines:compare -- /tmp/cdktf-0.21.out cdktf.out"],
  });
  const { positionals: dirs } = command.start();
  if (dirs.length !== 0 && dirs.length !== 2) {
    console.error(`error: ${command.usageError("expected no folders or two").message}`);
    process.exit(2);
  }
  void (async () => {
    const work = dirs.length ? undefined : mkdtempSync(join(tmpdir(), "engine-compare-"));
    if (work) onCleanup(() => rmSync(work, { recursive: true, force: true }));
    try {
      const [cdktfOut, cdktnOut] = work ? [join(work, "cdktf"), join(work, "cdktn")] : dirs.map((dir) => resolve(dir));
      if (work) {
        // Both at once: a current bundle of each takes about half a second.
        await Promise.all([synthApp("cdktf", cdktfOut), synthApp("cdktn", cdktnOut)]);
        const [cdktf, cdktn] = [ENGINES.cdktf, ENGINES.cdktn].map((engine) => `${libraryOf(engine).name} ${libraryOf(engine).version}`);
        console.log(`synthesized main.ts's stacks with ${cdktf} and ${cdktn}`);
      }
      const stacks = stacksIn(cdktfOut);
      const differences = compareOutdirs(cdktfOut, cdktnOut);
      if (stacks.length === 0) throw new Error(`no stacks in ${cdktfOut}`);
      for (const d of differences) console.log(describeDifference(d));
      console.log(
        differences.length
          ? `${differences.length} differences in ${new Set(differences.map((d) => d.stack)).size} documents`
          : `${stacks.length} stacks (${stacks.join(", ")}) and the manifest: identical but for the version metadata`,
      );
      process.exitCode = differences.length ? 1 : 0;
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  })().catch((error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
