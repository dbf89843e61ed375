import { readFileSync } from "node:fs";
import path from "node:path";
import { DockerfileParser, type From, type Instruction } from "dockerfile-ast";
import { APP_IMAGE_HEALTH_CHECK } from "../../lib/registry/container-image";

/**
 * No Docker engine runs here, so the image is proven by its recipe: parsed, and each property the
 * task definition relies on asserted. The app tests run `node dist/server.mjs` as the image's CMD does.
 */
const ROOT = path.join(__dirname, "..", "..");
const dockerfile = DockerfileParser.parse(readFileSync(path.join(ROOT, "app", "Dockerfile"), "utf8"));
const froms = dockerfile.getFROMs();
const runtime = froms[froms.length - 1];
const stageOf = (instruction: Instruction): From => [...froms].reverse().find((f) => f.getRange().start.line <= instruction.getRange().start.line)!;
const inRuntime = (keyword: string) => dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword && stageOf(i) === runtime);
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const execForm = (i: Instruction) => JSON.parse(i.getArgumentsContent()!.replace(/^CMD\s+/, "")) as string[];

describe("app/Dockerfile", () => {
  it("is multi-stage: a build stage with npm and esbuild, then a runtime without them", () => {
    expect(froms.map((f) => f.getBuildStage())).toEqual(["build", "runtime"]);
    const runtimeCopies = inRuntime("COPY").map(args);
    expect(runtimeCopies).toContainEqual(["/src/app/dist", "./dist"]);
    expect(runtimeCopies.flat().some((a) => a.includes("node_modules"))).toBe(false);
  });

  it("runs on a distroless Node image: no shell, no package manager", () => {
    expect(runtime.getImageName()).toBe("distroless/nodejs${NODE_MAJOR}-debian12");
    expect(runtime.getRegistry()).toBe("gcr.io");
    expect(inRuntime("RUN")).toEqual([]);
  });

  it("builds once on the builder's platform and runs on the platform asked for (the task's CPU architecture)", () => {
    expect(froms[0].getFlags().map((f) => `${f.getName()}=${f.getValue()}`)).toEqual(["platform=$BUILDPLATFORM"]);
    expect(runtime.getFlags()).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    // Nothing native in the app's production dependencies, so a bundle built on one CPU runs on the other.
    const appDeps = Object.keys(JSON.parse(readFileSync(path.join(ROOT, "app", "package.json"), "utf8")).dependencies);
    for (const dep of appDeps) expect(pkg.packages[`node_modules/${dep}`]?.hasInstallScript).toBeFalsy();
  });

  it("runs as uid 1000, as the task definition does", () => {
    expect(inRuntime("USER").map(args)).toEqual([["1000:1000"]]);
  });

  it("listens on 8080 and starts the bundle the tests run", () => {
    expect(inRuntime("EXPOSE").map(args)).toEqual([["8080"]]);
    expect(inRuntime("ENV").flatMap(args)).toContain("PORT=8080");
    expect(inRuntime("CMD").map(execForm)).toEqual([["dist/server.mjs"]]);
    expect(inRuntime("WORKDIR").map(args)).toEqual([["/app"]]);
  });

  it("writes nothing at run time, so a read-only root filesystem holds", () => {
    expect(inRuntime("VOLUME")).toEqual([]);
    expect(readFileSync(path.join(ROOT, "app", "src", "logger.ts"), "utf8")).not.toMatch(/destination\(|file:/);
  });

  it("has a health check that needs only node, the same command the task definition runs", () => {
    const [healthcheck] = dockerfile.getHEALTHCHECKs();
    expect(stageOf(healthcheck)).toBe(runtime);
    const command = JSON.parse(healthcheck.getArgumentsContent()!.replace(/^.*?CMD\s+/, ""));
    expect(command).toEqual([...APP_IMAGE_HEALTH_CHECK]);
    expect(command[0]).toBe("/nodejs/bin/node");
    expect(command[1]).toBe("/app/dist/healthcheck.mjs");
  });

  it("ships the migrations next to the bundle, where the app looks for them", () => {
    expect(inRuntime("COPY").map(args)).toContainEqual(["app/migrations", "./migrations"]);
    expect(readFileSync(path.join(ROOT, "app", "src", "migrations.ts"), "utf8")).toContain('new URL("../migrations", import.meta.url)');
  });
});

describe(".dockerignore", () => {
  const rules = readFileSync(path.join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  /** Docker's rule: the last matching pattern wins. Patterns here are exact paths, folders or "*". */
  const included = (file: string) =>
    rules.reduce((keep, rule) => {
      const negated = rule.startsWith("!");
      const pattern = rule.replace(/^!/, "").replace(/\/$/, "");
      const matches = pattern === "*" || file === pattern || file.startsWith(`${pattern}/`);
      return matches ? negated : keep;
    }, true);

  it("sends nothing but the app's inputs: no state, secrets, node_modules or git history", () => {
    for (const file of [
      ".git/config",
      "node_modules/pg/package.json",
      "app/node_modules/x",
      "app/dist/server.mjs",
      "terraform.dev.tfstate",
      ".emulator/x",
      "cdktf.out/stacks/dev/cdk.tf.json",
      "releases/dev.json",
      ".env",
      "lib/database/database.ts",
    ]) {
      expect([file, included(file)]).toEqual([file, false]);
    }
  });

  it("sends every file a COPY instruction reads from the context", () => {
    const sources = dockerfile
      .getCOPYs()
      .filter((copy) => !copy.getFromFlag())
      .flatMap((copy) => args(copy).slice(0, -1));
    expect(sources.length).toBeGreaterThan(4);
    for (const source of sources) expect([source, included(source)]).toEqual([source, true]);
    expect(included("app/src/server.ts")).toBe(true);
    expect(included("app/migrations/1763800000000_create-notes.sql")).toBe(true);
  });
});
