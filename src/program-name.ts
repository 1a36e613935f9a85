/**
 * The name the user typed: `aicost`, or `kubectl aicost` when kubectl runs the same program as its plugin
 * (kubectl finds an executable named kubectl-aicost on PATH and runs it with the arguments after `aicost`).
 * Usage and help then show the command the user can type again.
 */
import { basename, extname } from 'node:path';

export const PROGRAM = 'aicost';
export const PLUGIN_PROGRAM = 'kubectl aicost';
/** The executable kubectl looks for: package.json's second bin, and a link in the image. */
export const PLUGIN_BIN = 'kubectl-aicost';

/** From the script's path (process.argv[1]): the plugin's name when it is kubectl-aicost (any extension). */
export function programName(scriptPath: string | undefined): string {
  if (scriptPath === undefined) return PROGRAM;
  return basename(scriptPath, extname(scriptPath)) === PLUGIN_BIN ? PLUGIN_PROGRAM : PROGRAM;
}

/**
 * The project's own words, written for `aicost` (usage lines, help), for the program the user typed: each
 * `aicost` that stands as a command (at a line's start or after a space, quote, parenthesis or backquote,
 * followed by a space or a colon). Never for a value the user gave: "aicost" there is theirs.
 */
export function forProgram(text: string, program: string): string {
  return program === PROGRAM ? text : text.replace(/(^|[\s"'(`])aicost(?=[\s:]|$)/gm, `$1${program}`);
}
