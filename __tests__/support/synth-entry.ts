/**
 * main.ts's app for every environment and example variant: what __tests__/tooling/synth-paths.test.ts
 * bundles with the synth app's own build (scripts/synth.cjs's esbuildOptions), so the variants, which
 * main.ts does not synthesize, are proven to synthesize alike bundled and in-process too.
 */
import { App } from "cdktf";
import { environments } from "../../environments/environments";
import { runOptionsFromEnv } from "../../lib/settings/environment/settings";
import { examples, planOnlyExamples } from "./variants";
import { addEnvironmentStacks } from "../../stacks/app";

const app = new App({ stackTraces: false, outdir: process.env.CDKTF_OUTDIR });
addEnvironmentStacks(app, [...environments, ...examples, ...planOnlyExamples], runOptionsFromEnv(process.env), {}, false);
app.synth();
