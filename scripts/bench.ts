/**
 * Benchmark: median wall time and peak memory of the synth app, on each engine (cdktf, the default, and
 * cdktn: docs/engines.md); the unit project warm (jest's transform cache kept) and cold (a new cache);
 * `npm test` whole and by step; and `npm run test:integration`.
 * Targets on a 2-core machine: synth <= 0.5 s and <= 250 MB; unit project <= 5 s warm; npm test <= 3 min;
 * each stack's emulator lifecycle <= 6 min. Prints figures only; timing is never asserted in tests,
 * where a loaded CI machine would make it flaky.
 *   BENCH_ONLY="synth app" npm run bench   # only the measures whose name has that text
 *   BENCH_QUICK=1 npm run bench            # without npm test and the integration proofs (~20 min of the run)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { environments } from "../environments/environments";
import { buildFiles, ENGINES, installedEngines, libraryOf, type EngineName } from "./engine.cjs";

interface Measure {
  name: string;
  args: string[];
  runs: number;
  targetSeconds?: number;
  targetMb?: number;
  /** Run before each measured run. */
  before?: () => void;
  /** The engine (CDK_ENGINE) the run synthesizes with. @default cdktf */
  engine?: EngineName;
  /** Variables the run adds to the environment. @default none */
  env?: Record<string, string>;
  /** Minutes or more: left out by BENCH_QUICK. @default false */
  long?: boolean;
  /** Prints the run's own figures (jest's test counts) under the timing. @default none */
  details?: (stdout: string, stderr: string) => string | undefined;
}

const preload = resolve(__dirname, "report-peak-rss.cjs");
// Each engine's synth app: its own bundle, so one engine's figures never include the other's build.
const synthMeasures = (engine: EngineName): Measure[] => {
  const library = libraryOf(ENGINES[engine]);
  const on = `${engine} engine (${library.name} ${library.version})`;
  return [
    { name: `synth app (node scripts/synth.cjs), ${on}, bundle current`, args: ["scripts/synth.cjs"], runs: 7, targetSeconds: 0.5, targetMb: 250, engine },
    {
      // The first synth after an edit (or a fresh clone) builds the bundle first.
      name: `synth app, ${on}, bundle rebuilt`,
      args: ["scripts/synth.cjs"],
      runs: 3,
      before: () => rmSync(buildFiles(ENGINES[engine]).manifest, { force: true }),
      engine,
    },
  ];
};
const jest = (...args: string[]) => ["node_modules/jest/bin/jest.js", ...args, "--silent"];
// npm itself, as `npm run bench` names it (npm_execpath), or where a Node install keeps it.
const npmCli = process.env.npm_execpath ?? join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
const npm = (...args: string[]) => [npmCli, ...args];
/** jest's summary line ("Tests: 487 passed, 487 total"), so a figure always says how much it ran. */
const jestCounts = (_stdout: string, stderr: string) => [...stderr.matchAll(/^Tests:\s+(.*)$/gm)].map((m) => m[1]).join("; ") || undefined;
/** The emulator lifecycle's own wall time (it prints "all N stacks: S s"), against its 6-minute target, and jest's counts. */
const lifecycleFigures = (stdout: string, stderr: string) => {
  const all = /all (\d+) stacks: (\d+) s/.exec(stdout + stderr);
  const lifecycle = all
    ? `emulator lifecycle of all ${all[1]} stacks ${all[2]} s (target <= 360 s: ${Number(all[2]) <= 360 ? "within target" : "OVER TARGET"}); `
    : "";
  return lifecycle + (jestCounts(stdout, stderr) ?? "");
};
const coldCache = join(tmpdir(), "bench-jest-cold");
const measures: Measure[] = [
  // Each engine installed: both here, cdktf alone in a lean fork (docs/forking.md).
  ...installedEngines().flatMap((engine) => synthMeasures(engine.name)),
  {
    // Run again with nothing changed: jest's transforms and the synthesized stacks (support/synth-cache.cjs) cached.
    name: "unit project (jest --selectProjects unit), warm: code unchanged since the last run",
    args: jest("--selectProjects", "unit"),
    runs: 3,
    targetSeconds: 5,
    details: jestCounts,
  },
  {
    // After an edit to lib/, stacks/ or environments/: every stack synthesized again, transforms cached.
    name: "unit project, warm after a code change (SYNTH_CACHE=run: every stack synthesized)",
    args: jest("--selectProjects", "unit"),
    runs: 3,
    env: { SYNTH_CACHE: "run" },
    details: jestCounts,
  },
  {
    // A fresh clone's first run: no transform cache, no synthesized stacks.
    name: "unit project, cold (a new jest cache, every stack synthesized)",
    args: jest("--selectProjects", "unit", "--cacheDirectory", coldCache),
    runs: 1,
    env: { SYNTH_CACHE: "run" },
    before: () => rmSync(coldCache, { recursive: true, force: true }),
    details: jestCounts,
  },
  ...["stacks", "iam", "tooling", "terraform", "app"].map((project): Measure => ({
    name: `${project} project (jest --selectProjects ${project}), warm`,
    args: jest("--selectProjects", project),
    runs: 1,
    long: true,
    details: jestCounts,
  })),
  { name: "type check (npm run typecheck)", args: npm("run", "--silent", "typecheck"), runs: 1, long: true },
  { name: "lint (npm run lint: eslint, prettier, import rules)", args: npm("run", "--silent", "lint"), runs: 1, long: true },
  {
    name: "npm test (type check, lint, every project but integration)",
    args: npm("test", "--silent"),
    runs: 1,
    targetSeconds: 180,
    long: true,
    details: jestCounts,
  },
  {
    name: "npm run test:integration (emulator lifecycles, fork proof, game day)",
    args: npm("run", "--silent", "test:integration"),
    runs: 1,
    long: true,
    details: lifecycleFigures,
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const work = mkdtempSync(join(tmpdir(), "bench-"));
const lastDetails = new Map<string, string>();
console.log(`node ${process.version}, ${cpus().length} cores\n`);
const quick = ["1", "true"].includes(process.env.BENCH_QUICK ?? "");
for (const m of measures.filter((m) => m.name.includes(process.env.BENCH_ONLY ?? "") && !(quick && m.long))) {
  const seconds: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < m.runs; i++) {
    const rssFile = join(work, `${i}.rss`);
    m.before?.();
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, m.args, {
      env: {
        ...process.env,
        CDK_ENGINE: m.engine ?? "cdktf",
        CDKTF_OUTDIR: join(work, "cdktf.out"),
        BENCH_RSS_FILE: rssFile,
        NODE_OPTIONS: `--require ${preload}`,
        ...m.env,
      },
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (result.status !== 0) throw new Error(`${m.name} failed:\n${result.stderr.slice(-4000)}`);
    const details = m.details?.(result.stdout, result.stderr);
    if (details && i === m.runs - 1) lastDetails.set(m.name, details);
    const perProcess = readFileSync(rssFile, "utf8").trim().split("\n").map(Number);
    peaks.push(Math.max(...perProcess) / 1024);
  }
  const t = median(seconds);
  const mb = median(peaks);
  const verdict = (ok: boolean) => (ok ? "within target" : "OVER TARGET");
  console.log(m.name);
  const timeTarget = m.targetSeconds === undefined ? "" : ` (target <= ${m.targetSeconds} s: ${verdict(t <= m.targetSeconds)})`;
  console.log(`  median wall time   ${t.toFixed(2)} s over ${m.runs} runs${timeTarget}`);
  console.log(
    `  peak RSS           ${mb.toFixed(0)} MB, largest single process` + (m.targetMb ? ` (target <= ${m.targetMb} MB: ${verdict(mb <= m.targetMb)})` : ""),
  );
  if (lastDetails.has(m.name)) console.log(`  ran                ${lastDetails.get(m.name)}`);
}
rmSync(work, { recursive: true, force: true });

// The settings schema's share of synth: loading it (bundled with zod, as scripts/synth.cjs does, with
// the constructs its sections sit beside) and checking and defaulting every shipped environment. cdktf
// and the provider classes load for synth anyway, so they are loaded first and not counted.
{
  const external = ["cdktf", "constructs", "@cdktf/provider-aws"];
  // Inside the project, so the bundle's external imports resolve from its node_modules.
  const schemaBundle = resolve(__dirname, "../node_modules/.cache/bench-schema/schema.js");
  const built = buildSync({
    entryPoints: [resolve(__dirname, "../lib/settings/environment/schema.ts")],
    bundle: true,
    platform: "node",
    target: "node22",
    outfile: schemaBundle,
    external: [...external, ...external.map((name) => `${name}/*`)],
    metafile: true,
    logLevel: "warning",
  });
  const loadedAnyway = new Set(Object.values(built.metafile!.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path)));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const path of loadedAnyway) require(path);
  const loadStart = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parseSettings } = require(schemaBundle) as typeof import("../lib/settings/environment/schema");
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
  const rounds = 200;
  const parseStart = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const settings of environments) parseSettings(settings);
  const parseMs = Number(process.hrtime.bigint() - parseStart) / 1e6 / (rounds * environments.length);
  console.log("settings schema (lib/settings/environment/schema.ts, zod/mini bundled)");
  console.log(`  load ${loadMs.toFixed(0)} ms once per synth; check and default ${parseMs.toFixed(3)} ms per environment`);
  rmSync(dirname(schemaBundle), { recursive: true, force: true });
}
