/**
 * What synth tells the person who ran it (stacks/app.ts, main.ts): a bad setting names its environment
 * and is printed once, by the synth app or by the cdktf CLI; warnings reach the console; emulator stacks
 * never land in cdktf.out; the CLI makes no network lookups.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { App } from "cdktf";
import { addEnvironmentStacks, manifestWarnings, runByCli } from "../../stacks/app";
import { EMULATOR_OUTDIR, emulatorOutdirProblem, emulatorStatePath } from "../../emulator/mode";
import { env } from "../support/helpers";
import { testApp } from "../support/bare-stack";

const good = env({ name: "good" });
const bad = env({ name: "bad", task: { cpu: 300 } });

describe("a bad setting", () => {
  test("names its environment, as npm run synth prints it (error: environment bad: Invalid setting …)", () => {
    expect(() => addEnvironmentStacks(testApp(), [good, bad], {}, {}, false)).toThrow(
      /^environment bad: Invalid setting task\.cpu = 300: not a Fargate CPU size\. Allowed: 256, 512/,
    );
  });

  test("run by the cdktf CLI, is one error annotation on a stand-in of its environment, which the CLI prints once; the others still build", () => {
    const app: App = testApp();
    const stacks = addEnvironmentStacks(app, [good, bad], {}, {}, true);
    expect(stacks.map((s) => s.node.id)).toEqual(["good", "bad"]);
    const errors = stacks[1].node.metadata.filter((m) => m.type === "@cdktf/error").map((m) => m.data);
    expect(errors).toEqual([expect.stringMatching(/^environment bad: Invalid setting task\.cpu = 300: /)]);
    expect(stacks[0].node.metadata.filter((m) => m.type === "@cdktf/error")).toEqual([]);
  });

  test("the CLI is recognized by the variable it sets for the app it runs", () => {
    expect(runByCli({ CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: "true" })).toBe(true);
    expect(runByCli({})).toBe(false);
  });
});

test("warnings reach the console of npm run synth, each naming its stack", () => {
  const app = testApp();
  addEnvironmentStacks(
    app,
    [
      env({
        name: "shop",
        production: true,
        accountId: "210987654321",
        budget: { monthlyUsd: 1000 },
        loadBalancer: { https: { domainName: "api.example.com", hostedZoneId: "Z0EXAMPLE0REPLACEME0" } },
      }),
    ],
    { offline: true },
    {},
    false,
  );
  app.synth();
  expect(manifestWarnings(app.outdir)).toEqual([
    expect.stringMatching(/^warning: shop: loadBalancer\.https\.domainName = "api\.example\.com" is a reserved example domain/),
  ]);
});

test("environments whose VPC ranges overlap are warned of on the stack that should change, unless each names the other", () => {
  // given: a fork's staging given dev's range, as copying dev's settings does
  const dev = env({ name: "dev", network: { cidr: "10.10.0.0/16" } });
  const staging = env({ name: "staging", network: { cidr: "10.10.0.0/16" } });
  const warnings = (environments: ReturnType<typeof env>[]) => {
    const app = testApp();
    addEnvironmentStacks(app, environments, { offline: true }, {}, false);
    app.synth();
    return manifestWarnings(app.outdir).filter((warning) => /network\.cidr/.test(warning));
  };
  // then: one warning, on the later of the two, naming both and why
  expect(warnings([dev, staging])).toEqual([expect.stringMatching(/^warning: staging: .*dev.*10\.10\.0\.0\/16.*peering/)]);
  // and none when the overlap is declared deliberate on both sides
  expect(
    warnings([
      env({ name: "dev", network: { cidr: "10.10.0.0/16", sharedCidrWith: ["staging"] } }),
      env({ name: "staging", network: { cidr: "10.10.0.0/16", sharedCidrWith: ["dev"] } }),
    ]),
  ).toEqual([]);
});

describe("emulator stacks", () => {
  test("never go to the project's cdktf.out, which the docs' next commands read", () => {
    expect(emulatorOutdirProblem(resolve("cdktf.out"), resolve("cdktf.out"))).toMatch(/would replace .*cdktf\.out's/);
    expect(emulatorOutdirProblem(resolve(EMULATOR_OUTDIR), resolve("cdktf.out"))).toBeUndefined();
  });

  test("in .emulator/cdktf.out keep their state in .emulator/terraform.<env>.tfstate", () => {
    const stackDir = join(EMULATOR_OUTDIR, "stacks", "dev");
    expect(join(stackDir, emulatorStatePath("dev", true))).toBe(join(".emulator", "terraform.dev.tfstate"));
    expect(join("cdktf.out", "stacks", "dev", emulatorStatePath("dev"))).toBe(join(".emulator", "terraform.dev.tfstate"));
  });

  test("the synth app refuses AWS_EMULATOR_URL into cdktf.out, naming the flag that puts them elsewhere", () => {
    const main = readFileSync("main.ts", "utf8");
    expect(main).toMatch(/emulatorOutdirProblem\(resolve\(outdir\), resolve\("cdktf\.out"\)\)/);
    expect(main).toMatch(/--output \$\{EMULATOR_OUTDIR\}/);
  });
});

test("the project's npm config turns the cdktf CLI's network lookups off for every process npm starts (npx cdktf, npm run, npm test)", () => {
  expect(readFileSync(".npmrc", "utf8")).toMatch(/^node-options=/m);
  const probe = spawnSync("npm", ["exec", "--", "node", "-e", "console.log(process.env.CHECKPOINT_DISABLE, process.env.DISABLE_VERSION_CHECK)"], {
    encoding: "utf8",
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !["CHECKPOINT_DISABLE", "DISABLE_VERSION_CHECK", "NODE_OPTIONS"].includes(k))),
  });
  expect(probe.stdout.trim()).toBe("1 true");
});
