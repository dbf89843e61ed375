import { resolve } from "node:path";
import { App } from "cdktf";
import { environments } from "./environments/environments";
import { addEnvironmentStacks, manifestWarnings, runByCli } from "./stacks/app";
import { resolveReleases } from "./lib/settings/environment/releases";
import { runOptionsFromEnv } from "./lib/settings/environment/settings";
import { checkNameClashes } from "./lib/settings/environment/schema";
import { EMULATOR_OUTDIR, emulatorOutdirProblem, emulatorTargetFromEnv } from "./emulator/mode";
import { SettingError } from "./lib/settings/validate";

// AWS_EMULATOR_URL: every stack deployed to the emulator, its deployment target (emulator/mode.ts).
const emulator = emulatorTargetFromEnv(process.env);
const options = { ...runOptionsFromEnv(process.env), ...(emulator ? { target: emulator } : {}) };
// Emulator stacks never land in cdktf.out, which the docs' next commands read (emulator/mode.ts).
const outdir = process.env.CDKTF_OUTDIR ?? (emulator ? EMULATOR_OUTDIR : "cdktf.out");
const misplaced = emulator && emulatorOutdirProblem(resolve(outdir), resolve("cdktf.out"));
if (misplaced)
  throw new SettingError(
    "AWS_EMULATOR_URL",
    process.env.AWS_EMULATOR_URL,
    misplaced,
    `--output ${EMULATOR_OUTDIR} on the deploy command (npm run deploy -- dev --output ${EMULATOR_OUTDIR})`,
  );
// Stack traces on every construct cost a third of synth time and help only when debugging cdktf itself.
const app = new App({ stackTraces: false, outdir });
checkNameClashes(environments);
// An emulator run keeps release records of its own: it must never change what a real deploy runs next.
const releasesDir = resolve(emulator ? ".emulator/releases" : "releases");
const releases = resolveReleases(environments, process.env, releasesDir);
// A bad setting names its environment; under the cdktf CLI it is an error annotation the CLI prints once (stacks/app.ts).
const cli = runByCli();
addEnvironmentStacks(app, environments, options, releases, cli);
app.synth();
// The CLI prints the manifest's warnings itself; `npm run synth` and the offline plan print them here.
if (!cli) for (const warning of manifestWarnings(app.outdir)) console.error(warning);
