/**
 * npm run gameday [-- <environment>] [--only "scenario,scenario"] [--break no-drain] [--scale 0.2]
 *
 * Runs an environment's synthesized task definition as ECS runs it, behind HAProxy as its load
 * balancer, on PostgreSQL and the emulator's Secrets Manager, under steady load, through deploys, a
 * Spot interruption, a killed task, a secret rotation, a database restart and slow migrations; prints
 * a table per scenario and exits 1 when any request failed that should not have, or a write was lost.
 * Needs HAProxy, PostgreSQL's server programs and the emulator (moto); see docs/gameday.md.
 */
import { formatReport, runGameday, type Breakage } from "./gameday/run";

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value`);
  args.splice(i, 2);
  return value;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const only = option(args, "--only")
    ?.split(",")
    .map((s) => s.trim());
  const breakage = option(args, "--break") as Breakage | undefined;
  if (breakage !== undefined && breakage !== "no-drain") throw new Error(`--break ${breakage}: the harness knows "no-drain" only`);
  const scale = option(args, "--scale");
  if (scale !== undefined && !(Number(scale) > 0 && Number(scale) <= 1)) throw new Error(`--scale ${scale}: a number above 0 and at most 1`);
  const [environment = "prod", ...rest] = args;
  if (rest.length) throw new Error(`unexpected arguments: ${rest.join(" ")}`);
  const report = await runGameday({ environment, only, breakage, timeScale: scale === undefined ? undefined : Number(scale) });
  console.log(`\n${formatReport(report)}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`gameday: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
