/** The command-line kit every script uses (cli/cli.cjs): strict parsing, the help, and the progress lines. */
import { defineCommand, Reporter, UsageError } from "../../cli/cli.cjs";

const command = defineCommand({
  name: "example",
  summary: "Does an example.",
  args: "[stack…]",
  options: {
    json: { type: "boolean", description: "print JSON" },
    only: { type: "string", value: "<names>", description: "only these" },
    env: { type: "string", value: "KEY=VALUE", multiple: true, description: "a variable" },
  },
  needs: ["terraform on PATH"],
});

describe("the command line", () => {
  test("the help: one usage line, the summary, every option with its line, what it needs", () => {
    expect(command.help()).toBe(
      [
        "usage: npm run example -- [--json] [--only <names>] [--env KEY=VALUE]… [stack…]",
        "",
        "Does an example.",
        "",
        "options:",
        "  --json           print JSON",
        "  --only <names>   only these",
        "  --env KEY=VALUE  a variable",
        "  -h, --help       print this help and start nothing",
        "",
        "needs:",
        "  terraform on PATH",
        "",
      ].join("\n"),
    );
  });

  test("parses options anywhere, positionals and repeats", () => {
    expect(command.parse(["dev", "--only", "a,b", "--env", "A=1", "--env=B=2", "--json"])).toEqual({
      help: false,
      values: { only: "a,b", env: ["A=1", "B=2"], json: true },
      positionals: ["dev"],
      rest: [],
    });
  });

  test("--help wins over anything else on the line", () => {
    expect(command.parse(["--nope", "--help"]).help).toBe(true);
    expect(command.parse(["-h"]).help).toBe(true);
  });

  test.each([
    [["--nope"], "unknown option --nope"],
    [["-x"], "unknown option -x"],
    [["--only"], "option --only argument missing"],
    [["--json=yes"], "option --json does not take an argument"],
  ])("%j is a usage error naming it, exit code 2", (argv, problem) => {
    expect(() => command.parse(argv)).toThrow(new UsageError(`${problem} for npm run example; see npm run example -- --help`));
    try {
      command.parse(argv);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
    }
  });

  test("without arguments declared, a positional is refused", () => {
    const bare = defineCommand({ name: "bare", summary: "Bare." });
    expect(bare.usage()).toBe("usage: npm run bare");
    expect(() => bare.parse(["x"])).toThrow("unexpected argument x for npm run bare; see npm run bare -- --help");
    expect(bare.help()).toContain("\nneeds:\n  nothing beyond Node.js and `npm ci`\n");
  });

  test("a passthrough script's own options end at its first argument, or at --; the rest is handed on untouched", () => {
    const runner = defineCommand({
      name: "runner",
      summary: "Runs a command.",
      args: "[command…]",
      passthrough: true,
      options: { timeout: { type: "string", description: "minutes" } },
    });
    expect(runner.parse(["--timeout", "5", "npx", "cdktf", "--help", "--x"])).toMatchObject({
      values: { timeout: "5" },
      rest: ["npx", "cdktf", "--help", "--x"],
    });
    expect(runner.parse(["--", "-t", "name"])).toMatchObject({ help: false, rest: ["-t", "name"] });
    expect(() => runner.parse(["--auto-approve", "dev"])).toThrow("unknown option --auto-approve for npm run runner");
  });
});

describe("the progress lines", () => {
  /** A stream that keeps what is written, and a clock moved by hand. */
  function fixture(live = false) {
    const written: string[] = [];
    let ms = 1_000_000;
    const reporter = new Reporter({ stream: { write: (text: string) => written.push(text) } as unknown as NodeJS.WritableStream, now: () => ms, live });
    return { reporter, written, advance: (seconds: number) => (ms += seconds * 1000) };
  }

  test("plain (CI, a pipe): a line when a step starts, and one when it ends, with the time since the start and its own", () => {
    const { reporter, written, advance } = fixture();
    const deploy = reporter.step("dev: deploy");
    advance(1.5);
    const plan = reporter.step("prod: plan");
    advance(10.8);
    deploy.done();
    advance(400);
    plan.fail("terraform plan failed:\nError: boom");
    plan.done(); // the first end counts
    reporter.note("all 2 stacks");
    expect(written.join("")).toBe(
      [
        "[  0.0s] dev: deploy …",
        "[  1.5s] prod: plan …",
        "[ 12.3s] dev: deploy … ok (12.3s)",
        "[412.3s] prod: plan … FAILED: terraform plan failed: (410.8s)",
        "all 2 stacks",
        "",
      ].join("\n"),
    );
  });

  test("a note follows ok", () => {
    const { reporter, written, advance } = fixture();
    const step = reporter.step("dev: apply");
    advance(41.2);
    step.done("7 resources");
    expect(written[1]).toBe("[ 41.2s] dev: apply … ok: 7 resources (41.2s)\n");
  });

  test("live (a terminal): the running steps stay below the finished ones, redrawn in place, and are gone at the end", () => {
    const { reporter, written, advance } = fixture(true);
    const step = reporter.step("dev: apply");
    advance(2);
    step.done();
    reporter.close();
    const screen = written.join("");
    expect(screen).toContain("⠋ dev: apply … 0.0s\n");
    // Up over the status line, erased, the finished line in its place.
    expect(screen).toContain("\x1b[1F\x1b[0J[  2.0s] dev: apply … ok (2.0s)\n");
    expect(screen.endsWith("[  2.0s] dev: apply … ok (2.0s)\n")).toBe(true);
  });

  test("silent: writes nowhere (what tests calling the long work get)", () => {
    const reporter = Reporter.silent();
    const step = reporter.step("dev: apply");
    step.done();
    reporter.note("nothing");
    reporter.close();
  });
});
