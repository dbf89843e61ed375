import { App } from "cdktf";
import { environments } from "./stacks/environments";
import { ApiStack } from "./stacks/api-stack";
import { runOptionsFromEnv } from "./stacks/settings";

// Stack traces on every construct cost a third of synth time and help only when debugging cdktf itself.
const app = new App({ stackTraces: false });
const options = runOptionsFromEnv(process.env);
for (const settings of environments) {
  new ApiStack(app, settings.name, settings, options);
}
app.synth();
