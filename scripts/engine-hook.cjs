// Preloaded by node scripts that build stacks in-process, as the synth bundle's alias does for the
// synth app: `node --require ./scripts/engine-hook.cjs --import tsx <script>`. On the cdktn engine
// (CDK_ENGINE=cdktn) every `cdktf` and `cdktf/...` request, the project's and the provider bindings',
// loads cdktn instead; on cdktf it changes nothing. See scripts/engine.cjs.
const Module = require("node:module");
const { aliasRequest, engineFromEnv } = require("./engine.cjs");

let engine;
try {
  engine = engineFromEnv();
} catch (error) {
  console.error(`error: ${error.message}`);
  process.exit(1);
}

if (engine.library !== "cdktf") {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolve.call(this, aliasRequest(engine, request), ...rest);
  };
}
