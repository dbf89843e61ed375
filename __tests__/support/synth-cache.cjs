// globalSetup and globalTeardown of the projects that synthesize (unit, stacks, iam, tooling), shared: one folder per jest run where helpers.synth
// keeps each synthesized stack, so the test files (in every worker) synthesize a stack once between
// them instead of once each. A new folder each run: nothing carries over to a run of changed code.
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

module.exports = {
  setup() {
    // Every project of one run shares the folder: the first setup makes it, the first teardown removes it.
    process.env.SYNTH_CACHE_DIR ??= mkdtempSync(join(tmpdir(), "synth-cache-"));
  },
  teardown() {
    if (process.env.SYNTH_CACHE_DIR) rmSync(process.env.SYNTH_CACHE_DIR, { recursive: true, force: true });
    delete process.env.SYNTH_CACHE_DIR;
  },
};
