// Types of scripts/npm-scripts.cjs: the npm scripts that are chains of commands or third-party tools.
import type { Command, CommandSpec } from "../cli/cli.cjs";

export const SCRIPTS: Readonly<Record<string, Omit<CommandSpec, "name"> & { readonly steps: readonly string[] }>>;
/** A script's steps as one command line, `a && b`: what package.json held before. */
export function commandLine(name: string): string;
/** A script's command line declaration (its --help and its parse). */
export function commandOf(name: string): Command;
