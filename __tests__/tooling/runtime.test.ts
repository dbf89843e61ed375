/**
 * One Node.js: the version .node-version names is what the tests, CI (.ci/run installs it where the
 * machine's is older), the workflows, `engines` and the image run, so what is proven here is what runs
 * in the task. The pull-request workflow also tests on the next LTS, one job of its own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const root = join(__dirname, "..", "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
const wanted = read(".node-version").trim();
const major = Number(wanted.split(".")[0]);

test(".node-version names one exact, even-numbered (LTS) release", () => {
  expect(wanted).toMatch(/^\d+\.\d+\.\d+$/);
  expect(major % 2).toBe(0);
});

test.each(["package.json", "app/package.json"])("%s's engines start at that major", (file) => {
  const range = JSON.parse(read(file)).engines.node as string;
  expect(range).toMatch(new RegExp(`^>=${major}\\.\\d+(\\.\\d+)? <\\d+$`));
  const [, minimum] = /^>=(\S+)/.exec(range)!;
  // the minimum is not above the version the project runs
  const [a, b] = [minimum, wanted].map((v) => v.split(".").map(Number));
  const first = a.findIndex((n, i) => n !== (b[i] ?? 0));
  expect(first === -1 || a[first] < (b[first] ?? 0)).toBe(true);
});

test("the image is built and run on that major", () => {
  expect(/^ARG NODE_MAJOR=(\d+)$/m.exec(read("app/Dockerfile"))?.[1]).toBe(String(major));
});

test("the bundles target that major", () => {
  for (const file of ["scripts/synth.cjs", "app/build.mjs", "scripts/bench.ts"])
    expect([file, /target: "node(\d+)"/.exec(read(file))?.[1]]).toEqual([file, String(major)]);
});

test("every workflow job sets up exactly that version, but one pull-request job on the next LTS", () => {
  const dir = join(root, ".github", "workflows");
  const versions: { file: string; job: string; version: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const workflow = parse(readFileSync(join(dir, file), "utf8")) as { jobs: Record<string, { steps?: Record<string, any>[] }> };
    for (const [job, { steps = [] }] of Object.entries(workflow.jobs))
      for (const step of steps.filter((s) => String(s.uses ?? "").startsWith("actions/setup-node@")))
        versions.push({ file, job, version: String(step.with["node-version"]) });
  }
  const others = versions.filter((v) => v.version !== wanted);
  expect(versions.length).toBeGreaterThan(others.length);
  expect(others.map(({ file, version }) => ({ file, major: Number(version.split(".")[0]) }))).toEqual([{ file: "pull-request.yml", major: major + 2 }]);
});

test("the tests run on it, as .ci/run makes sure (`. .ci/node.sh` does the same for a shell)", () => {
  const running = Number(process.versions.node.split(".")[0]);
  if (running < major)
    throw new Error(
      `These tests run on Node.js ${process.versions.node}, older than ${wanted} (.node-version): run \`. .ci/node.sh\` first, which installs ${wanted} from the npm registry into .local/ and puts it first on PATH.`,
    );
});
