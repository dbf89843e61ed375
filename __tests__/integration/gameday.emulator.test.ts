/**
 * The game day can fail: an API that closes at once on SIGTERM (no drain, the behaviour before the
 * drain existed) loses requests in a Spot interruption, and the harness says so. The passing run is
 * `npm run gameday`, which .ci/run runs after the tests.
 *
 * Needs HAProxy, PostgreSQL's server programs and moto; SKIP_GAMEDAY=1 skips it deliberately.
 */
import { runGameday } from "../../scripts/gameday/run";

const skip = ["1", "true"].includes(process.env.SKIP_GAMEDAY ?? "");

(skip ? describe.skip : describe)("the game day harness", () => {
  test("catches an API that closes at once on SIGTERM: the Spot interruption fails with the lost requests", async () => {
    const lines: string[] = [];
    const report = await runGameday({ environment: "prod", only: ["spot interruption"], breakage: "no-drain", log: (l) => lines.push(l) });
    const spot = report.scenarios.find((s) => s.name === "spot interruption")!;
    expect({ passed: report.passed, problems: spot.problems }).toMatchObject({ passed: false, problems: [expect.stringMatching(/failed requests/)] });
    expect(spot.load!.failures.length).toBeGreaterThan(0);
  }, 180_000);
});
