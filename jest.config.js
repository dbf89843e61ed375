/** Two projects: fast unit/snapshot tests, and the offline terraform proof (validate + plan). */
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
    { ...common, displayName: "unit", testMatch: ["<rootDir>/__tests__/**/*.test.ts"], testPathIgnorePatterns: ["\\.terraform\\.test\\.ts$"] },
    { ...common, displayName: "terraform", testMatch: ["<rootDir>/__tests__/**/*.terraform.test.ts"] },
  ],
};
