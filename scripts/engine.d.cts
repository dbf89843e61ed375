// Types of scripts/engine.cjs, for the TypeScript scripts and tests that ask it which engine runs.
export type EngineName = "cdktf" | "cdktn";

export interface Engine {
  readonly name: EngineName;
  /** The package the stacks' `cdktf` imports load. */
  readonly library: string;
  /** The package of the engine's own CLI. */
  readonly cliPackage: string;
  /** The synth app's bundle and manifest name in `.build/`. */
  readonly build: string;
}

export const ENGINES: Readonly<Record<EngineName, Engine>>;
export const DEFAULT_ENGINE: EngineName;
/** The engines whose library and CLI are installed: both here, cdktf alone in a lean fork. */
export function installedEngines(): Engine[];
export function engineFromEnv(env?: NodeJS.ProcessEnv): Engine;
export function libraryOf(engine: Engine): { readonly name: string; readonly version: string };
export function cliOf(engine: Engine): { readonly name: EngineName; readonly bin: string; readonly package: string };
export function cliNodeProblem(cli: { readonly package: string }, nodeVersion?: string): string | undefined;
export function invokingCli(pid?: number): EngineName | undefined;
export function cliMismatch(engine: Engine, cli?: EngineName): Error | undefined;
export function buildFiles(engine: Engine): { readonly bundle: string; readonly manifest: string };
export function bundleAlias(engine: Engine): Record<string, string>;
export function aliasRequest(engine: Engine, request: string): string;
export function describeEngine(engine: Engine): string;
