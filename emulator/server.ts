/**
 * The local AWS emulator: moto's server (with emulator/moto_server.py's additions) on a free
 * loopback port, stopped whatever happens.
 *
 *   npm run emulator                          # start it, print AWS_EMULATOR_URL, stop on Ctrl-C
 *   npm run emulator -- npx cdktf deploy dev --output .emulator/cdktf.out   # run one command against it, then stop it
 *   CDK_ENGINE=cdktn npm run emulator -- npx cdktn deploy dev --output .emulator/cdktf.out   # the same on the cdktn engine
 *
 * Emulator stacks are synthesized into `.emulator/cdktf.out`, never `cdktf.out` (the synth app refuses
 * that): a cdktf command against the emulator takes `--output .emulator/cdktf.out`.
 *
 * The emulator keeps everything in memory: when it stops, what was deployed to it is gone, and so is
 * the emulator state file (`.emulator/`), which the CLI clears at start.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { defineCommand, killOnInterrupt, onCleanup } from "../cli/cli.cjs";
import { offlineTerraformEnv } from "../scripts/offline-plan";
import { cliOf, engineFromEnv } from "../scripts/engine.cjs";
import { EMULATOR_OUTDIR } from "./mode";

const SERVER = join(__dirname, "moto_server.py");
const PYTHON = process.env.EMULATOR_PYTHON ?? "python3";

export interface Emulator {
  /** `http://127.0.0.1:<port>`: the value of AWS_EMULATOR_URL for this emulator. */
  readonly url: string;
  /** Stops the server; safe to call twice. */
  stop(): Promise<void>;
}

/** Throws a message naming what is missing and how to install it, or how to opt out. */
export function checkEmulatorInstalled(): void {
  const probe = spawnSync(PYTHON, ["-c", "import moto, flask, flask_cors, werkzeug; print(moto.__version__)"], {
    encoding: "utf8",
  });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? `${PYTHON} was not found` : (probe.stderr.trim().split("\n").pop() ?? "import failed");
    throw new Error(
      `The AWS emulator (moto with its server extras) is not available: ${why}. ` +
        `Install it with \`pipx install "moto[server]"\` (or \`pip install "moto[server]>=5.2,<6"\`), ` +
        "point EMULATOR_PYTHON at the Python that has it, or set SKIP_EMULATOR_TESTS=1 to skip the emulator tests.",
    );
  }
}

/** Starts one emulator. Each stack under test gets its own: see EMULATOR_GAPS.oneEmulatorPerStack (known-gaps.ts). */
export async function startEmulator(): Promise<Emulator> {
  checkEmulatorInstalled();
  // Whatever ends this process, no emulator outlives it; interrupted, each stops as stop() stops it.
  const child = killOnInterrupt(
    spawn(PYTHON, [SERVER], {
      // moto_server.py sets what moto needs (EMULATOR_GAPS.managedPolicies) before moto loads.
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    // Request logs are noise; keep the tail for an error message.
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the emulator did not start within 30 s:\n${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      done(JSON.parse(line).port);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`the emulator exited (${code}) before listening:\n${stderr}`));
    });
  }).catch(async (error) => {
    child.kill("SIGKILL");
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

function readdirSafe(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function cli(args: string[]): Promise<number> {
  // The CLI of the engine CDK_ENGINE names (cdktf by default; the synth app refuses the other), checked before starting.
  const engineCli = cliOf(engineFromEnv()).name;
  // A new emulator has no resources: state left by an earlier one would only confuse terraform.
  for (const stale of ["terraform.rc", ...readdirSafe(resolve(".emulator")).filter((f) => f.includes(".tfstate"))]) {
    rmSync(resolve(".emulator", stale), { force: true });
  }
  const emulator = await startEmulator();
  // cdktf and terraform report usage to HashiCorp unless told not to; nothing of an emulator run should leave the machine.
  const env: NodeJS.ProcessEnv = { CHECKPOINT_DISABLE: "1", ...process.env, AWS_EMULATOR_URL: emulator.url };
  // Without a CLI config of the user's own, use the offline plan's: a local provider mirror when one
  // exists (so no download is needed), and a plugin cache either way.
  if (!env.TF_CLI_CONFIG_FILE || !existsSync(env.TF_CLI_CONFIG_FILE)) {
    env.TF_CLI_CONFIG_FILE = offlineTerraformEnv(resolve(".emulator")).TF_CLI_CONFIG_FILE;
  }
  onCleanup(() => emulator.stop());
  if (args.length === 0) {
    console.log(`AWS emulator listening: export AWS_EMULATOR_URL=${emulator.url}`);
    const flags = `--output ${EMULATOR_OUTDIR} --skip-provider-lock`;
    console.log(
      `Then e.g. \`npx ${engineCli} deploy dev ${flags}\`, \`npx ${engineCli} output dev ${flags}\`, \`npx ${engineCli} destroy dev ${flags}\`. Ctrl-C stops it.`,
    );
    await new Promise(() => undefined);
  }
  console.log(`AWS emulator at ${emulator.url}; running: ${args.join(" ")}`);
  // A deploy stops gracefully on SIGINT and may take a while: the emulator waits for it (see cli.cjs's interrupt).
  const child = killOnInterrupt(spawn(args[0], args.slice(1), { env, stdio: "inherit" }), { signal: "SIGINT", graceMs: 60_000 });
  const code = await new Promise<number>((done) => {
    child.once("error", (error) => {
      console.error(`error: ${args[0]}: ${error.message}`);
      done(127);
    });
    child.once("exit", (c, signal) => done(c ?? (signal ? 1 : 0)));
  });
  await emulator.stop();
  return code;
}

if (require.main === module) {
  const { rest } = defineCommand({
    name: "emulator",
    summary:
      "Starts the local AWS emulator (moto) on a free loopback port and prints AWS_EMULATOR_URL; with a command, runs it against the emulator, then stops it.",
    args: "[command…]",
    argsHelp: [`command: run with AWS_EMULATOR_URL set (a cdktf command takes --output ${EMULATOR_OUTDIR}); without one, Ctrl-C stops the emulator`],
    passthrough: true,
    needs: [
      'moto with its server extras (`pipx install "moto[server]"`, or `pip install "moto[server]>=5.2,<6"`); EMULATOR_PYTHON names its Python',
      "terraform 1.10 or newer on PATH, for a deploy against it",
    ],
    examples: ["npm run emulator", `npm run emulator -- npx cdktf deploy dev --output ${EMULATOR_OUTDIR}`],
  }).start();
  cli(rest).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`error: ${error.message}`);
      process.exit(1);
    },
  );
}
