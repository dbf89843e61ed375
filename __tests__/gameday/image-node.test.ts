/**
 * The game day's tasks run the image's Node.js major (app/Dockerfile's NODE_MAJOR), whatever the
 * machine's: the runtime the tasks prove is the one the image runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageNode, imageNodeMajor } from "../../scripts/gameday/image";

test("the major is the Dockerfile's NODE_MAJOR, and a Dockerfile without one is refused, naming it", () => {
  const dir = mkdtempSync(join(tmpdir(), "image-node-"));
  try {
    writeFileSync(join(dir, "Dockerfile"), "ARG NODE_MAJOR=24\nFROM node:${NODE_MAJOR}\n");
    expect(imageNodeMajor(join(dir, "Dockerfile"))).toBe(24);
    writeFileSync(join(dir, "Dockerfile"), "FROM node:22\n");
    expect(() => imageNodeMajor(join(dir, "Dockerfile"))).toThrow(/names no ARG NODE_MAJOR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("on the image's major, the tasks run this very node (nothing installed)", () => {
  const running = Number(process.versions.node.split(".")[0]);
  expect(imageNode(running)).toBe(process.execPath);
});
