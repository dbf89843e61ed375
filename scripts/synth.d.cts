// Types of scripts/synth.cjs, for the tests that build a bundle as the synth app builds its own.
import type { BuildOptions } from "esbuild";
import type { Engine } from "./engine.cjs";

export function esbuildOptions(engine: Engine, entry: string, outfile: string): BuildOptions;
export function requireWithCodeCache(file: string): void;
