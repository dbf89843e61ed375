// The conventions every `npm run` script follows (docs/how-it-is-built.md, "The command line"):
//
//   - `--help` (or `-h`) prints one usage line, the options and what the script needs, and starts nothing;
//   - an option it does not know is an error naming it, exit code 2;
//   - interrupted (SIGINT, SIGTERM), it stops what it started (child processes, temp folders) once,
//     then exits 130 or 143 as a shell reports a process killed by that signal;
//   - long work prints a line per step as it happens (Reporter).
//
// CommonJS with its types beside it (cli.d.cts): the synth wrapper, the engine launcher and the npm
// script runner are plain node, where loading tsx would cost more than the work, and the TypeScript
// scripts, the emulator and app/scripts import it too. It imports nothing of the project, so any of them may.
"use strict";
const { parseArgs } = require("node:util");

/** A command line the script cannot run: exit code 2, as shells and most CLIs use for usage errors. */
class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = "UsageError";
    this.exitCode = 2;
  }
}

const HELP = { type: "boolean", short: "h", description: "print this help and start nothing" };

/** `--only <value>`, `[--env KEY=VALUE]…`: an option as the usage line shows it. */
function optionSyntax(name, option) {
  const flag = `--${name}`;
  return option.type === "string" ? `${flag} ${option.value ?? "<value>"}` : flag;
}

/**
 * A script's command line, declared once: its help is built from the declaration and its parse checks
 * against it, so the two cannot disagree.
 */
function defineCommand(spec) {
  const options = { ...spec.options, help: HELP };
  const parseOptions = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
        ...(o.default !== undefined ? { default: o.default } : {}),
      },
    ]),
  );
  const see = `see npm run ${spec.name} -- --help`;

  function usage() {
    const shown = Object.entries(spec.options ?? {}).map(([name, o]) => `[${optionSyntax(name, o)}]${o.multiple ? "…" : ""}`);
    const rest = [...shown, ...(spec.args ? [spec.args] : [])];
    return `usage: npm run ${spec.name}${rest.length ? ` -- ${rest.join(" ")}` : ""}`;
  }

  function help() {
    const rows = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : ""}${optionSyntax(name, o)}`, o.description]);
    const width = Math.max(...rows.map(([left]) => left.length));
    const lines = [usage(), "", spec.summary, ""];
    if (spec.argsHelp) lines.push(...spec.argsHelp.map((line) => `  ${line}`), "");
    lines.push("options:", ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`));
    lines.push("", "needs:", ...(spec.needs?.length ? spec.needs : ["nothing beyond Node.js and `npm ci`"]).map((need) => `  ${need}`));
    if (spec.examples?.length) lines.push("", "examples:", ...spec.examples.map((example) => `  ${example}`));
    return `${lines.join("\n")}\n`;
  }

  /** The script's own options (before the first argument, for a passthrough script) and the rest. */
  function split(argv) {
    if (!spec.passthrough) return { own: argv, rest: [] };
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (arg === "--") return { own: argv.slice(0, i), rest: argv.slice(i + 1) };
      if (!arg.startsWith("-") || arg === "-") return { own: argv.slice(0, i), rest: argv.slice(i) };
      // A string option's value is the next argument unless given as --name=value.
      const option = arg.startsWith("--") ? options[arg.slice(2)] : Object.values(options).find((o) => `-${o.short}` === arg);
      if (option?.type === "string" && !arg.includes("=")) i++;
    }
    return { own: argv, rest: [] };
  }

  function parse(argv) {
    const { own, rest } = split(argv);
    // --help wins over anything else on the line: asking how to run it must never be an error.
    if (own.includes("--help") || own.includes("-h")) return { help: true, values: {}, positionals: [], rest: [] };
    let parsed;
    try {
      parsed = parseArgs({ args: own, options: parseOptions, strict: true, allowPositionals: Boolean(spec.args) && !spec.passthrough });
    } catch (error) {
      throw new UsageError(`${describeParseError(error)} for npm run ${spec.name}; ${see}`);
    }
    const { help: _help, ...values } = parsed.values;
    return { help: false, values, positionals: parsed.positionals, rest };
  }

  /**
   * What a script calls first: parses `argv`, answers --help (exit 0) and a usage error (exit 2), and
   * installs the signal handlers (`signals: false`: the script has its own); returns the parsed line.
   */
  function start(argv = process.argv.slice(2), { signals = true } = {}) {
    let parsed;
    try {
      parsed = parse(argv);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    if (parsed.help) {
      process.stdout.write(help());
      process.exit(0);
    }
    if (signals) installSignalHandlers();
    return parsed;
  }

  /** A usage error of this script's own (a bad value, a missing argument), with the pointer to --help. */
  function usageError(problem) {
    return new UsageError(`${problem} for npm run ${spec.name}; ${see}`);
  }

  return { spec, usage, help, parse, start, usageError };
}

function describeParseError(error) {
  const quoted = /'([^']*)'/.exec(error.message)?.[1];
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${quoted}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `${error.message.replace(/^Option '([^' ]*)[^']*'/, "option $1").replace(/\.$/, "")}`;
    default:
      return error.message;
  }
}

// --- Interruption ----------------------------------------------------------------------------------

const cleanups = [];
const children = new Map();
let installed = false;
let interruptedAt;

/** Runs `fn` (once, awaited) when the script is interrupted; returns a function that unregisters it. */
function onCleanup(fn) {
  const entry = { fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/**
 * Stops `child` when the script is interrupted, and kills it if the script exits with it still running.
 * `signal` is how the child stops gracefully (SIGINT for terraform, which then records what it did in
 * its state); after `graceMs` it is killed.
 */
function killOnInterrupt(child, { signal = "SIGTERM", graceMs = 5000 } = {}) {
  children.set(child, { signal, graceMs });
  child.once("exit", () => children.delete(child));
  return child;
}

// Whatever ends the process, no child it tracks outlives it.
process.once("exit", () => {
  for (const child of children.keys()) child.kill("SIGKILL");
});

function running(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves when `child` has exited, or after `ms`. */
function exitOf(child, ms) {
  return new Promise((done) => {
    if (!running(child)) return done();
    const timer = setTimeout(done, ms);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
  });
}

/**
 * The interruption: every tracked child asked to stop and waited for, every cleanup run, newest first,
 * then exit 128 + the signal's number. A second signal a second or more after the first exits at once
 * (a second Ctrl-C means "now"); sooner, it is the same interruption delivered twice (the terminal's to
 * the whole process group, and npm's forwarded copy).
 */
async function interrupt(signal) {
  const code = signal === "SIGINT" ? 130 : 143;
  if (interruptedAt !== undefined) {
    if (Date.now() - interruptedAt >= 1000) process.exit(code);
    return;
  }
  interruptedAt = Date.now();
  // Ctrl-C in a terminal reaches the children too (they share its process group): asking them again
  // would be a second Ctrl-C, which terraform takes as "abort now". Otherwise the signal is ours alone.
  const fromTerminal = signal === "SIGINT" && Boolean(process.stdin.isTTY);
  // Newest first, each waited for: a command run against a server started before it stops before the server.
  for (const [child, { signal: stop, graceMs }] of [...children].reverse()) {
    if (!fromTerminal) child.kill(stop);
    await exitOf(child, graceMs);
    if (running(child)) child.kill("SIGKILL");
  }
  for (const { fn } of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      // the others still run: one failed cleanup must not leave the rest behind
    }
  }
  process.exit(code);
}

/** SIGINT and SIGTERM handlers that run the cleanups (start() installs them; once is enough). */
function installSignalHandlers() {
  if (installed) return;
  installed = true;
  process.on("SIGINT", () => void interrupt("SIGINT"));
  process.on("SIGTERM", () => void interrupt("SIGTERM"));
}

// --- Progress ----------------------------------------------------------------------------------------

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * A line per step of long work, as it happens. Plain lines (CI, a pipe, a file):
 *
 *   [  0.0s] dev: deploy …
 *   [ 41.2s] dev: deploy … ok (41.2s)
 *
 * On a terminal (and not in CI), finished steps print the same lines and the running ones stay below
 * them as a live status, one line each with a spinner. `stream: null` writes nowhere (Reporter.silent()):
 * what the functions behind the scripts use unless handed a reporter, so tests that call them stay quiet.
 */
class Reporter {
  constructor(options = {}) {
    // stderr: what a script prints on stdout stays its result (`npm run plan:offline | tee plan.txt`).
    this.stream = options.stream === undefined ? process.stderr : options.stream;
    this.now = options.now ?? (() => Date.now());
    this.live = options.live ?? Boolean(this.stream && this.stream.isTTY && !process.env.CI);
    this.started = this.now();
    this.running = new Set();
    this.drawn = 0;
    this.frame = 0;
    this.timer = undefined;
  }

  /** A reporter that writes nowhere. */
  static silent() {
    return new Reporter({ stream: null });
  }

  /** Starts a step; `done()` or `fail()` ends it (the first call counts). */
  step(label) {
    const step = { label, started: this.now() };
    this.running.add(step);
    if (this.live) this.tick();
    else this.print(`[${this.clock()}] ${label} …`);
    const end = (outcome, note) => {
      if (!this.running.delete(step)) return;
      const detail = note ? `: ${String(note).split("\n")[0]}` : "";
      this.print(`[${this.clock()}] ${label} … ${outcome}${detail} (${seconds(this.now() - step.started)})`);
      if (this.live && !this.running.size) this.stop();
    };
    return { done: (note) => end("ok", note), fail: (note) => end("FAILED", note) };
  }

  /** A line of its own between the steps' lines (on a terminal, above the live status). */
  note(text) {
    this.print(text);
  }

  /** Removes the live status; call before printing anything else when steps may still be running. */
  close() {
    this.stop();
    this.clear();
  }

  clock() {
    return `${((this.now() - this.started) / 1000).toFixed(1).padStart(5)}s`;
  }

  print(line) {
    if (!this.stream) return;
    if (!this.live) return void this.stream.write(`${line}\n`);
    this.clear();
    this.stream.write(`${line}\n`);
    this.draw();
  }

  tick() {
    if (!this.stream) return;
    this.clear();
    this.draw();
    if (!this.timer && this.running.size) {
      this.timer = setInterval(() => {
        this.frame++;
        this.clear();
        this.draw();
      }, 100);
      // The status never keeps the process alive on its own.
      this.timer.unref?.();
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  clear() {
    // Up to the status's first line, then erase to the end of the screen.
    if (this.drawn) this.stream.write(`\x1b[${this.drawn}F\x1b[0J`);
    this.drawn = 0;
  }

  draw() {
    const width = this.stream.columns || 100;
    const spin = SPINNER[this.frame % SPINNER.length];
    const lines = [...this.running].map((s) => `${spin} ${s.label} … ${seconds(this.now() - s.started)}`.slice(0, width - 1));
    if (lines.length) this.stream.write(`${lines.join("\n")}\n`);
    this.drawn = lines.length;
  }
}

module.exports = { UsageError, defineCommand, onCleanup, killOnInterrupt, installSignalHandlers, Reporter };
