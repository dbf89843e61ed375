/**
 * Projects: fast unit/snapshot tests, the offline terraform proof (validate + plan), the emulator
 * lifecycle (deploy, release, re-plan, destroy against moto) and the REST API against PostgreSQL.
 */
const transform = { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] };
const common = {
  testEnvironment: "node",
  transform,
  moduleFileExtensions: ["ts", "js", "json"],
  // See __tests__/no-stack-trace.js: roughly halves the time of each synth in tests.
  moduleNameMapper: { "^\\.(/tokens)?(/private)?/stack-trace$": "<rootDir>/__tests__/no-stack-trace.js" },
};

module.exports = {
  maxWorkers: 2,
  reporters: ["default", "<rootDir>/scripts/summary-reporter.cjs"],
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/__tests__/**/*.test.ts"],
      // A stack synthesized once per run, not once per test file that asks for it.
      globalSetup: "<rootDir>/__tests__/support/synth-cache-setup.cjs",
      globalTeardown: "<rootDir>/__tests__/support/synth-cache-teardown.cjs",
      testPathIgnorePatterns: ["\\.(terraform|emulator)\\.test\\.ts$"],
    },
    { ...common, displayName: "terraform", testMatch: ["<rootDir>/__tests__/**/*.terraform.test.ts"] },
    { ...common, displayName: "emulator", testMatch: ["<rootDir>/__tests__/**/*.emulator.test.ts"] },
    {
      ...common,
      displayName: "app",
      testMatch: ["<rootDir>/app/__tests__/**/*.test.ts"],
      // The API bundled once, as the image runs it.
      globalSetup: "<rootDir>/app/__tests__/support/build.cjs",
    },
  ],
};
