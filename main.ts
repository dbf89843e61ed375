import { resolve } from "node:path";
import { App } from "cdktf";
import { environments } from "./stacks/environments";
import { ApiStack } from "./stacks/api-stack";
import { resolveReleases } from "./stacks/releases";
import { runOptionsFromEnv } from "./stacks/settings";
import { checkNameClashes } from "./stacks/schema";

// Stack traces on every construct cost a third of synth time and help only when debugging cdktf itself.
const app = new App({ stackTraces: false });
const options = runOptionsFromEnv(process.env);
checkNameClashes(environments);
// An emulator run keeps release records of its own: it must never change what a real deploy runs next.
const releasesDir = resolve(options.emulatorUrl ? ".emulator/releases" : "releases");
const releases = resolveReleases(environments, process.env, releasesDir);
for (const settings of environments) {
  new ApiStack(app, settings.name, settings, { ...options, release: releases[settings.name] });
}
app.synth();
