// Types of cli/cli.cjs: the command-line conventions every `npm run` script follows.
import type { ChildProcess } from "node:child_process";

export interface OptionSpec {
  readonly type: "boolean" | "string";
  /** One line: what the option does. */
  readonly description: string;
  /** The value's placeholder in the help, e.g. `<minutes>`. @default "<value>" */
  readonly value?: string;
  readonly short?: string;
  /** May be given more than once (its value is then an array). */
  readonly multiple?: boolean;
  readonly default?: string | boolean | string[] | boolean[];
}

export interface CommandSpec {
  /** The npm script's name: `npm run <name>`. */
  readonly name: string;
  /** One sentence: what the script does. */
  readonly summary: string;
  /** The arguments after the options in the usage line, e.g. `[environment…]`; none when absent (a positional is then an error). */
  readonly args?: string;
  /** Lines explaining the arguments, shown under the summary. */
  readonly argsHelp?: readonly string[];
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /**
   * The first argument that is not an option, and everything after it (or after `--`), is handed on
   * untouched (`rest`): a command to run, or a tool's own arguments.
   */
  readonly passthrough?: boolean;
  /** What the script needs besides Node.js and `npm ci`: tools on PATH, services. */
  readonly needs?: readonly string[];
  readonly examples?: readonly string[];
}

export interface Parsed {
  /** True when the line asked for --help (nothing else was checked). */
  readonly help: boolean;
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
  /** A passthrough script's arguments from its first non-option on. */
  readonly rest: string[];
}

export interface Command {
  readonly spec: CommandSpec;
  /** `usage: npm run <name> -- [options] <args>` */
  usage(): string;
  /** The usage line, the summary, the options and what the script needs, ending in a newline. */
  help(): string;
  /** Parses strictly; throws a UsageError naming what is wrong. */
  parse(argv: readonly string[]): Parsed;
  /**
   * Parses `argv` (default: the process's arguments), answers --help (exit 0) and usage errors (exit 2),
   * and installs the signal handlers, unless `signals: false` (a script that stops its children its own way).
   */
  start(argv?: readonly string[], options?: { readonly signals?: boolean }): Parsed;
  /** A usage error of the script's own (a bad value, a missing argument), pointing at --help. */
  usageError(problem: string): UsageError;
}

export class UsageError extends Error {
  readonly exitCode: 2;
}

export function defineCommand(spec: CommandSpec): Command;
/** Runs `fn` (once, awaited) on SIGINT or SIGTERM, newest first; returns a function that unregisters it. */
export function onCleanup(fn: () => unknown): () => void;
/** Stops `child` with `signal` on SIGINT or SIGTERM (killed after `graceMs`), and kills it if the process exits first. */
export function killOnInterrupt<T extends ChildProcess>(child: T, options?: { readonly signal?: NodeJS.Signals; readonly graceMs?: number }): T;
/** The SIGINT and SIGTERM handlers: cleanups once, then exit 130 or 143. Command.start() installs them. */
export function installSignalHandlers(): void;

export interface ReporterOptions {
  /** Where the lines go; `null` writes nowhere. @default process.stderr (stdout stays the script's result) */
  readonly stream?: NodeJS.WritableStream | (NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) | null;
  /** Milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
  /** A live status of the running steps. @default a TTY stream outside CI */
  readonly live?: boolean;
}

export interface StepProgress {
  /** The step ended well; `note` (its first line) follows "ok". */
  done(note?: string): void;
  /** The step failed; `note` (its first line) follows "FAILED". */
  fail(note?: string): void;
}

export class Reporter {
  constructor(options?: ReporterOptions);
  /** A reporter that writes nowhere: the default where tests call long work. */
  static silent(): Reporter;
  step(label: string): StepProgress;
  note(text: string): void;
  close(): void;
}
