// Every jest project's setup: a test that writes to the console fails, naming what it wrote. A passing
// `npm test` prints jest's summary and nothing else, so a line that looks like a failure or a change to
// the repository (a release recorded, a file rewritten) is one, and is never lost among green output.
// Code that reports to a person takes where to say it (e.g. resolveReleases' `say`); its test passes a
// collector and asserts on what it would have said.
/* global afterEach, afterAll */
const METHODS = ["log", "info", "warn", "error", "debug"];
const { inspect } = require("node:util");
const said = [];
for (const method of METHODS) {
  console[method] = (...args) => said.push(`console.${method}: ${args.map((a) => (typeof a === "string" ? a : inspect(a))).join(" ")}`);
}
afterEach(() => {
  if (!said.length) return;
  const lines = said.splice(0);
  throw new Error(`The test wrote to the console (tests must be quiet; collect what the code says and assert on it):\n${lines.join("\n").slice(0, 4000)}`);
});
afterAll(() => {
  if (!said.length) return;
  const lines = said.splice(0);
  throw new Error(`The file's setup or teardown wrote to the console (tests must be quiet):\n${lines.join("\n").slice(0, 4000)}`);
});
