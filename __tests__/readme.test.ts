import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Where each settings interface sits in EnvironmentSettings. */
const SECTIONS: Record<string, { file: string; prefix: string }> = {
  EnvironmentSettings: { file: "stacks/settings.ts", prefix: "" },
  ComputeSettings: { file: "stacks/settings.ts", prefix: "compute." },
  NetworkSettings: { file: "lib/network.ts", prefix: "network." },
  RegistrySettings: { file: "lib/registry.ts", prefix: "registry." },
  ClusterSettings: { file: "lib/cluster.ts", prefix: "cluster." },
  TaskSettings: { file: "lib/task-definition.ts", prefix: "task." },
  ImageSettings: { file: "lib/container-image.ts", prefix: "task.image." },
  ServiceSettings: { file: "lib/service.ts", prefix: "service." },
  AutoscalingSettings: { file: "lib/autoscaling.ts", prefix: "autoscaling." },
  LoadBalancerSettings: { file: "lib/load-balancer.ts", prefix: "loadBalancer." },
  TargetHealthCheckSettings: { file: "lib/load-balancer.ts", prefix: "loadBalancer.healthCheck." },
  HttpsSettings: { file: "lib/load-balancer.ts", prefix: "loadBalancer.https." },
  DatabaseSettings: { file: "lib/database.ts", prefix: "database." },
  Ec2Settings: { file: "lib/ec2-capacity.ts", prefix: "compute.ec2." },
  CiSettings: { file: "lib/ci-access.ts", prefix: "ci." },
};
/** Sections documented as a whole, by their sub-table or their own heading. */
const SECTION_FIELDS = new Set([
  ...["network", "registry", "cluster", "task", "service", "autoscaling", "loadBalancer", "database", "compute", "ci"],
  ...["compute.ec2", "task.image", "loadBalancer.healthCheck"],
]);

const root = join(__dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const settingsSection = readme.slice(readme.indexOf("\n## Settings"), readme.indexOf("\n## ", readme.indexOf("\n## Settings") + 1));
const table = new Set([...settingsSection.matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]));

function fields(name: string, file: string): { field: string; doc: string; optional: boolean }[] {
  const source = readFileSync(join(root, file), "utf8");
  const body = new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(source);
  if (!body) throw new Error(`interface ${name} not found in ${file}`);
  return [...body[1].matchAll(/(?:\/\*\*([\s\S]*?)\*\/\s*)?readonly (\w+)(\??):/g)].map((m) => ({ field: m[2], doc: m[1] ?? "", optional: m[3] === "?" }));
}

const settings = Object.entries(SECTIONS).flatMap(([name, { file, prefix }]) =>
  fields(name, file).map(({ field, doc, optional }) => ({ path: `${prefix}${field}`, doc, optional })),
);

test("every setting is in the README settings table", () => {
  const missing = settings.map((s) => s.path).filter((p) => !SECTION_FIELDS.has(p) && !table.has(p));
  expect(missing).toEqual([]);
});

test("the README table lists no setting the code does not have", () => {
  const known = new Set(settings.map((s) => s.path));
  expect([...table].filter((p) => !known.has(p))).toEqual([]);
});

test("every setting has a one-line doc, and every optional leaf setting documents its default", () => {
  const undocumented = settings.filter((s) => !s.doc.trim()).map((s) => s.path);
  expect(undocumented).toEqual([]);
  // A required field (such as `name`, or `ci.githubRepository` once `ci` is set) has no default to document.
  const noDefault = settings.filter((s) => !SECTION_FIELDS.has(s.path) && s.optional && !s.doc.includes("@default") && !s.path.endsWith("command"));
  expect(noDefault.map((s) => s.path)).toEqual([]);
});

test("the README's two quick-start commands are the ones CI runs", () => {
  const ci = readFileSync(join(root, ".ci/run"), "utf8");
  expect(readme).toContain("npm ci && npm run synth");
  expect(readme).toContain("npm test ");
  expect(ci).toMatch(/^npm ci && npm run synth$/m);
  expect(ci).toMatch(/^npm test$/m);
});

test("the README's emulator section names the switch, the opt-out, the install and every script it shows", () => {
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
  for (const text of ["AWS_EMULATOR_URL", "SKIP_EMULATOR_TESTS=1", 'pipx install "moto[server]"', "EMULATOR_PYTHON"]) expect(readme).toContain(text);
  for (const script of ["emulator", "lifecycle", "test:emulator"]) {
    expect(readme).toContain(`npm run ${script}`);
    expect(scripts[script]).toBeDefined();
  }
});
