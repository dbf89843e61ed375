// Jest globalSetup of the app project: bundle the API once, as the image does, so every test runs
// `node dist/server.mjs` exactly like the container.
const { execFileSync } = require("node:child_process");
const path = require("node:path");

module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, "..", "..", "build.mjs")], { stdio: "inherit" });
};
