/**
 * The recipes of docs/forking.md, as the fork proof (scripts/fork-proof.ts, in CI) reads and applies
 * them: where each goes, what it says it costs, and that pasting one leaves `environments/environments.ts` as
 * a reader would. The whole suite over the applied recipes is the fork proof's job; this holds the parts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { costChange, describeCosts, forksOf } from "../../scripts/fork-proof";
import { applyRecipe, environmentObjects, ENVIRONMENTS_FILE, readRecipes, RECIPES_DOC, statedCosts, type Recipe } from "../../scripts/fork-recipes";

const root = join(__dirname, "../..");
const doc = readFileSync(join(root, RECIPES_DOC), "utf8");
const shipped = readFileSync(join(root, ENVIRONMENTS_FILE), "utf8");
const recipe = (into: string, code: string, extra: Partial<Recipe> = {}): Recipe => ({ id: "test", into, alone: false, code, text: "", ...extra });
const environmentsOf = (source: string) => environmentObjects(ts.createSourceFile("e.ts", source, ts.ScriptTarget.Latest, true));

describe("the recipes of docs/forking.md", () => {
  const recipes = readRecipes(doc);

  test("cover what a fork does first: rename, another region, another environment, a worker and a second API, EC2 mode, HTTPS with a certificate, no database", () => {
    expect(recipes.map((r) => r.id)).toEqual(["rename", "region", "staging", "services", "ec2", "certificate", "no-database"]);
  });

  test("each goes where its marker says, into an environment the shipped file has (or the file itself)", () => {
    const names = [...environmentsOf(shipped).keys()];
    for (const r of recipes) {
      const target = r.into.split(".")[0];
      expect([r.id, r.into === "each environment" || r.into === ENVIRONMENTS_FILE || names.includes(target)]).toEqual([r.id, true]);
    }
  });

  test("each says what it costs a month, which the fork proof checks against npm run cost", () => {
    for (const r of recipes) expect([r.id, statedCosts(r)]).toEqual([r.id, expect.any(Object)]);
  });

  test("all but the ones marked alone are proven in one fork; those each in their own", () => {
    expect(forksOf(recipes).map((fork) => fork.map((r) => r.id))).toEqual([["rename", "region", "staging", "services", "ec2", "certificate"], ["no-database"]]);
  });

  test("applied in order, they leave TypeScript that still declares every environment, the new one too", () => {
    let source = shipped;
    for (const r of forksOf(recipes)[0]) source = applyRecipe(source, r);
    const file = ts.createSourceFile("e.ts", source, ts.ScriptTarget.Latest, true);
    expect((file as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics).toEqual([]);
    expect([...environmentObjects(file).keys()]).toEqual(["dev", "prod", "staging"]);
    expect(source).toMatch(/export const environments: readonly EnvironmentSettings\[] = \[dev, staging, prod\];/);
  });
});

describe("applying a recipe", () => {
  const source = `export const dev: EnvironmentSettings = {
  name: "dev",
  // the region
  region: "us-east-1",
  network: { cidr: "10.10.0.0/16", natMode: "none" },
};

export const prod: EnvironmentSettings = {
  name: "prod",
  loadBalancer: {
    deletionProtection: true,
    https: { domainName: "api.example.com", hostedZoneId: "Z0EXAMPLE0REPLACEME0" },
  },
};

export const environments: readonly EnvironmentSettings[] = [dev, prod];
`;

  test("a property replaces its namesake, whole, and keeps the comment above it", () => {
    const out = applyRecipe(source, recipe("dev", 'region: "eu-west-1",\nnetwork: { cidr: "10.10.0.0/16" },'));
    expect(out).toContain('  // the region\n  region: "eu-west-1",\n  network: { cidr: "10.10.0.0/16" },\n};');
    expect(out).not.toContain("natMode");
  });

  test("a new property is added after the last one, indented as the others, over several lines as written", () => {
    const out = applyRecipe(source, recipe("dev", "services: {\n  worker: {},\n},"));
    expect(out).toContain('  network: { cidr: "10.10.0.0/16", natMode: "none" },\n  services: {\n    worker: {},\n  },\n};');
  });

  test("into a section of an environment: its other settings stay", () => {
    const out = applyRecipe(source, recipe("prod.loadBalancer", 'https: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x" },'));
    expect(out).toContain('    deletionProtection: true,\n    https: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x" },\n  },');
  });

  test("into each environment: every EnvironmentSettings object of the file", () => {
    const out = applyRecipe(source, recipe("each environment", 'project: "orders",'));
    expect(out.match(/project: "orders",/g)).toHaveLength(2);
  });

  test("declarations into the file: a new one goes before the one it replaces, which it replaces", () => {
    const out = applyRecipe(
      source,
      recipe(
        ENVIRONMENTS_FILE,
        'export const staging: EnvironmentSettings = { ...dev, name: "staging" };\n\nexport const environments: readonly EnvironmentSettings[] = [dev, staging, prod];',
      ),
    );
    expect(out).toMatch(
      /export const staging: EnvironmentSettings = \{ \.\.\.dev, name: "staging" \};\n\nexport const environments: readonly EnvironmentSettings\[] = \[dev, staging, prod\];\n$/,
    );
    expect(out.match(/export const environments/g)).toHaveLength(1);
  });

  test("an environment the file does not have is refused, naming the recipe and the ones it has", () => {
    expect(() => applyRecipe(source, recipe("staging", "region: 1,"))).toThrow(
      /fork recipe "test" \(into="staging"\): no environment "staging" .* there are dev, prod/,
    );
  });
});

describe("what a recipe costs", () => {
  test("the change is each environment added or changed by a cent or more, said as docs/forking.md says it", () => {
    const change = costChange({ dev: 49.98, prod: 323.85 }, { dev: 66.9, prod: 323.85, staging: 49.98 });
    expect(change).toEqual({ dev: 16.92, staging: 49.98 });
    expect(describeCosts(change)).toBe("Costs: dev +$16.92, staging +$49.98 a month");
    expect(describeCosts({})).toBe("Costs nothing");
    expect(describeCosts({ dev: -13.28 })).toBe("Costs: dev -$13.28 a month");
  });

  test("read from the page's text before the snippet", () => {
    expect(statedCosts(recipe("dev", "", { text: "Costs: dev +$16.92, `staging` +$49.98 a month." }))).toEqual({ dev: 16.92, staging: 49.98 });
    expect(statedCosts(recipe("dev", "", { text: "So it says: Costs nothing." }))).toEqual({});
    expect(statedCosts(recipe("dev", "", { text: "No figure." }))).toBeUndefined();
  });
});

test("CI runs the fork proof (.ci/run's integration proofs), so the recipes of docs/forking.md stay proven", () => {
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
  expect(readFileSync(join(root, ".ci", "run"), "utf8")).toMatch(/^npm run test:integration$/m);
  expect(scripts["test:integration"]).toMatch(/(^|&& )npm run fork-proof( &&|$)/);
});
