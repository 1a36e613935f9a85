/** The command line's words as option values: --name value or --name=value, every problem said once. */
import { parseArgs } from 'node:util';
import { quote } from './option-schemas.ts';

/**
 * The flags given, and every problem with the arguments themselves: unknown options, stray words. A flag
 * given twice keeps its last value, except a `repeatable` one, whose values are joined one per line.
 */
export function readFlags<Name extends string>(
  argv: readonly string[],
  names: readonly Name[],
  repeatable: readonly Name[] = [],
): { values: Partial<Record<Name, string>>; problems: string[] } {
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Partial<Record<Name, string>> = {};
  const problems: string[] = [];
  let unknownBefore = false; // the word after an unknown option is most likely its value: one line for both
  for (const token of tokens) {
    const follows = unknownBefore;
    unknownBefore = false;
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (!follows)
        problems.push(`${quote(token.value)}: not an option; write options as --name value or --name=value`);
    } else if (!(names as readonly string[]).includes(token.name)) {
      problems.push(`${token.rawName}: no such option; "aicost run --help" lists them`);
      unknownBefore = token.inlineValue === undefined;
    } else if (token.value === undefined) problems.push(`${token.rawName}: needs a value`);
    else {
      const name = token.name as Name;
      const before = values[name];
      values[name] = before !== undefined && repeatable.includes(name) ? `${before}\n${token.value}` : token.value;
    }
  }
  return { values, problems };
}
