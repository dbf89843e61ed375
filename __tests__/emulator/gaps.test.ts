/**
 * The emulator's concessions (EMULATOR_GAPS) held to the code that makes them: every patch
 * emulator/moto_server.py makes to moto is listed under a gap with its reason, every patch a gap lists
 * is made, and every file a gap names exists. A patch added without its reason, or a gap whose patch
 * was removed, fails here.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EMULATOR_GAPS, KNOWN_GAPS } from "../../emulator/known-gaps";

const root = join(__dirname, "..", "..");
const server = readFileSync(join(root, "emulator", "moto_server.py"), "utf8");

/** What moto_server.py changes in moto: `Class.member` it assigns or extends at top level, and `MOTO_*` settings. */
function patchesMade(source: string): string[] {
  const assigned = [...source.matchAll(/^([A-Za-z_]\w*\.[A-Za-z_]\w*)(?:\s*=[^=]|\.append\()/gm)].map((m) => m[1]);
  const settings = [...source.matchAll(/os\.environ\.setdefault\("(MOTO_\w+)"/g)].map((m) => m[1]);
  return [...new Set([...assigned.filter((name) => !name.startsWith("os.")), ...settings])].sort();
}

describe("the emulator's gaps (EMULATOR_GAPS)", () => {
  const listed = Object.values(EMULATOR_GAPS).flatMap((gap) => gap.patches ?? []);

  test("the check finds moto_server.py's patches: assignments, extended lists and settings", () => {
    expect(patchesMade('X.y = z\n    A.b = c\nQ.LIST.append("x")\nos.environ.setdefault("MOTO_X", "1")\nos.environ["P"] = "1"\n')).toEqual([
      "MOTO_X",
      "Q.LIST",
      "X.y",
    ]);
    expect(patchesMade(server).length).toBeGreaterThan(20);
  });

  test("every patch moto_server.py makes is listed under a gap, with its reason", () => {
    expect(patchesMade(server).filter((patch) => !listed.includes(patch))).toEqual([]);
  });

  test("every patch a gap lists is made", () => {
    const made = patchesMade(server);
    expect([...new Set(listed)].filter((patch) => !made.includes(patch))).toEqual([]);
  });

  test("every gap says why, and is patched, worked around or proven by a file that exists", () => {
    for (const [name, gap] of Object.entries(EMULATOR_GAPS)) {
      expect({ name, why: gap.why }).toEqual({ name, why: expect.stringMatching(/\S{20,}|(\S+\s+){8,}/) });
      const files = gap.provenBy ?? [];
      expect({ name, handled: (gap.patches?.length ?? 0) + files.length > 0 }).toEqual({ name, handled: true });
      expect({ name, missing: files.filter((file) => !existsSync(join(root, file))) }).toEqual({ name, missing: [] });
    }
  });

  test("the attributes a re-plan does not compare are among the gaps", () => {
    expect(Object.keys(KNOWN_GAPS).length).toBeGreaterThan(0);
    expect(EMULATOR_GAPS.unstoredAttributes.why).toMatch(/KNOWN_GAPS/);
  });
});
