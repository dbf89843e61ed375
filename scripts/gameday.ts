/**
 * npm run gameday [-- <environment>] [--only "scenario,scenario"] [--break <name>] [--scale 0.2]
 *
 * Runs an environment's synthesized task definition as ECS runs it, behind HAProxy as its load
 * balancer, on PostgreSQL and the emulator's Secrets Manager, under steady load, through deploys, a
 * Spot interruption, a killed task, a task out of memory, secret rotations in both orders, a Secrets
 * Manager outage, a database restart and failover, slow migrations and the worker's faults; prints
 * a table per scenario and exits 1 when any request failed that should not have, or a write was lost.
 * Needs HAProxy, PostgreSQL's server programs and the emulator (moto); see docs/gameday.md.
 */
import { defineCommand, Reporter, UsageError } from "../cli/cli.cjs";
import { formatReport, runGameday, type Breakage } from "./gameday/run";
import { BREAKAGE_NAMES, BREAKAGES } from "./gameday/breakages";

const GAMEDAY_COMMAND = defineCommand({
  name: "gameday",
  summary: "Runs an environment's task definition as ECS would, behind HAProxy, on PostgreSQL and the emulator, through deploys and faults under load.",
  args: "[environment]",
  argsHelp: ["environment: one of environments/environments.ts (default prod)"],
  options: {
    only: { type: "string", value: '"scenario,scenario"', description: "run only these scenarios (their names as the table prints them)" },
    break: {
      type: "string",
      value: "<name>",
      description: `run a deliberately broken API, to prove its scenario fails: ${BREAKAGE_NAMES.map((n) => `${n} (${BREAKAGES[n].scenario})`).join(", ")}`,
    },
    scale: { type: "string", value: "<0-1>", description: "multiply the synthesized timings by this (default 0.2)" },
  },
  needs: [
    "HAProxy on PATH",
    "PostgreSQL's server programs on PATH (initdb, postgres)",
    'the emulator: moto with its server extras (`pipx install "moto[server]"`)',
    "see docs/gameday.md",
  ],
  examples: ["npm run gameday -- dev", 'npm run gameday -- prod --only "spot interruption" --break no-drain'],
});

async function main(): Promise<number> {
  const { values, positionals } = GAMEDAY_COMMAND.start();
  const only = (values.only as string | undefined)?.split(",").map((s) => s.trim());
  const breakage = values.break as Breakage | undefined;
  if (breakage !== undefined && !BREAKAGE_NAMES.includes(breakage))
    throw GAMEDAY_COMMAND.usageError(`--break ${breakage}: the harness knows ${BREAKAGE_NAMES.join(", ")}`);
  const scale = values.scale as string | undefined;
  if (scale !== undefined && !(Number(scale) > 0 && Number(scale) <= 1)) throw GAMEDAY_COMMAND.usageError(`--scale ${scale}: a number above 0 and at most 1`);
  const [environment = "prod", ...rest] = positionals;
  if (rest.length) throw GAMEDAY_COMMAND.usageError(`unexpected arguments: ${rest.join(" ")}`);
  const reporter = new Reporter();
  const report = await runGameday({
    environment,
    only,
    breakage,
    timeScale: scale === undefined ? undefined : Number(scale),
    reporter,
    log: (line) => reporter.note(line),
  });
  reporter.close();
  console.log(`\n${formatReport(report)}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`${error instanceof UsageError ? "error" : "gameday"}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? error.exitCode : 1);
  },
);
