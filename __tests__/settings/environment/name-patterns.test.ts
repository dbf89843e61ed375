/**
 * Name patterns cannot cover another environment's names (issue 30, item 3): an environment's
 * permissions are patterns of `<project>-<name>-*`, so synth refuses a pair where one's `<project>-<name>-`
 * begins the other's `<project>-<name>`.
 */
import { checkNameClashes } from "../../../lib/settings/environment/schema";
import { environments } from "../../../environments/environments";
import { env } from "../../support/helpers";

describe("environments whose name patterns would overlap", () => {
  test("given dev and dev-eu in one project, synth refuses dev-eu, naming the setting, the values and what is allowed", () => {
    expect(() => checkNameClashes([env({ name: "dev" }), env({ name: "dev-eu" })])).toThrow(
      'Invalid setting name (environment dev-eu) = "dev-eu": its names start with "rest-api-dev-", environment dev\'s pattern, so dev\'s roles and CI would reach its resources by name. Allowed: names that do not extend one another after a "-" (e.g. "dev-main" beside "dev-eu", or "eu-dev"), or another project.',
    );
    // Whichever is listed first.
    expect(() => checkNameClashes([env({ name: "dev-eu" }), env({ name: "dev" })])).toThrow(/^Invalid setting name \(environment dev-eu\)/);
  });

  test("given projects whose names run into each other (rest + api-dev, rest-api + dev-x), synth refuses them too", () => {
    expect(() => checkNameClashes([env({ project: "rest", name: "api" }), env({ project: "rest-api", name: "dev" })])).toThrow(
      /its names start with "rest-api-", environment api's pattern.*Allowed: a project and name whose "<project>-<name>" does not begin with "rest-api-"/,
    );
  });

  test("names that share a beginning without the pattern's hyphen do not overlap", () => {
    expect(() => checkNameClashes([env({ name: "dev" }), env({ name: "devbox" }), env({ name: "dev2-eu" }), env({ name: "eu-dev" })])).not.toThrow();
    expect(() => checkNameClashes([env({ name: "dev" }), env({ name: "dev-eu", project: "other" })])).not.toThrow();
  });

  test("the shipped environments do not overlap", () => {
    expect(() => checkNameClashes(environments)).not.toThrow();
  });
});
