import { App } from "cdktf";
import { environments } from "./stacks/environments";
import { ApiStack } from "./stacks/api-stack";
import { runOptionsFromEnv } from "./stacks/settings";

const app = new App();
const options = runOptionsFromEnv(process.env);
for (const settings of environments) {
  new ApiStack(app, settings.name, settings, options);
}
app.synth();
