/**
 * What the `ftp-workspace` command line is made of: its commands, their arguments and options. A
 * module of its own, importing nothing of ours, so that the launcher (cliEarlyConnection.ts) reads
 * a command line by the same table as the parser (commandLine.ts) without loading the parser's
 * checks of each value.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type CommandName = 'ls' | 'get' | 'put' | 'rm' | 'mkdir' | 'chmod' | 'diagnose' | 'find' | 'grep';

/** Every option, with the placeholder its value is shown with (none for a switch). */
export const OPTIONS = {
  mode: 'passive|active|auto',
  'active-address': 'A',
  'active-ports': 'LOW-HIGH',
  'trust-pasv-address': undefined,
  'disable-epsv': undefined,
  'disable-eprt': undefined,
  encoding: 'NAME',
  'time-zone-offset': 'OFFSET',
  proxy: 'URL',
  'implicit-tls': undefined,
  insecure: undefined,
  timeout: 'SECONDS',
  recursive: undefined,
  parallel: 'N',
  resume: undefined,
  name: 'GLOB',
  include: 'GLOB',
  exclude: 'GLOB',
  regex: undefined,
  'ignore-case': undefined,
  word: undefined,
  'max-size': 'BYTES',
  'cache-dir': 'DIR',
  connections: 'N',
  verbose: undefined,
  json: undefined,
} as const;
export type OptionName = keyof typeof OPTIONS;

/** Options that may be given more than once (each adds a pattern). */
const MULTIPLE = new Set<OptionName>(['name', 'include', 'exclude']);

const CONNECTION: OptionName[] = ['active-address', 'active-ports', 'trust-pasv-address', 'disable-epsv', 'disable-eprt', 'encoding', 'time-zone-offset', 'proxy', 'implicit-tls', 'insecure', 'timeout', 'verbose'];

export const COMMANDS: Record<CommandName, { args: string; min: number; max: number; options: OptionName[] }> = {
  ls: { args: '<url>', min: 1, max: 1, options: ['mode', ...CONNECTION, 'json'] },
  get: { args: '<url> [local-file]', min: 1, max: 2, options: ['mode', ...CONNECTION, 'resume', 'json'] },
  put: { args: '<local-file> <url>', min: 2, max: 2, options: ['mode', ...CONNECTION, 'resume', 'json'] },
  rm: { args: '<url>', min: 1, max: 1, options: ['mode', ...CONNECTION, 'recursive'] },
  mkdir: { args: '<url>', min: 1, max: 1, options: ['mode', ...CONNECTION] },
  chmod: { args: '<mode> <url>', min: 2, max: 2, options: ['mode', ...CONNECTION, 'recursive', 'parallel', 'json'] },
  // diagnose tries every data-channel variant itself: a --mode would be ignored, so it is refused.
  diagnose: { args: '<url>', min: 1, max: 1, options: [...CONNECTION, 'json'] },
  find: { args: '<url>', min: 1, max: 1, options: ['mode', ...CONNECTION, 'name', 'exclude', 'connections', 'json'] },
  grep: { args: '<pattern> <url>', min: 2, max: 2, options: ['mode', ...CONNECTION, 'include', 'exclude', 'regex', 'ignore-case', 'word', 'max-size', 'cache-dir', 'connections', 'json'] },
};

function isCommand(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

function config(names: OptionName[]): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries([
    ...names.map((o) => [o, { type: OPTIONS[o] ? 'string' : 'boolean', multiple: MULTIPLE.has(o) }] as const),
    ['help', { type: 'boolean', short: 'h' }] as const,
  ]);
}

/** A command line's shape: its command, options and arguments, their values not checked yet. */
export type CommandLineShape =
  | { command: 'help' }
  | { command: CommandName; values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] }
  /** What is wrong, and with which command's usage, if it got that far. */
  | { problem: string; command?: CommandName };

/**
 * Reads `argv` (without node and the script) as far as the table knows it: the command, then its
 * own options in strict mode and the number of its arguments. Each value's own checks are
 * commandLine.ts's; the launcher (cliEarlyConnection.ts) goes by this alone.
 */
export function readCommandLine(argv: readonly string[]): CommandLineShape {
  // First find the command (options may come before it): a lenient pass that knows every option,
  // so "--mode active ls" does not take "active" for the command.
  const { tokens } = parseArgs({ args: [...argv], options: config(Object.keys(OPTIONS) as OptionName[]), strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { command: 'help' };
  const first = tokens.find((t) => t.kind === 'positional');
  if (!first || first.kind !== 'positional') return { problem: 'no command given' };
  if (first.value === 'help') return { command: 'help' };
  if (!isCommand(first.value)) return { problem: `unknown command "${first.value}"` };
  const command = first.value;
  const spec = COMMANDS[command];
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv.filter((_, i) => i !== first.index), options: config(spec.options), strict: true, allowPositionals: true });
  } catch (e) {
    return { problem: explain(e), command };
  }
  const { values, positionals } = parsed;
  if (positionals.length < spec.min) return { problem: `missing argument (${spec.args})`, command };
  if (positionals.length > spec.max) return { problem: `unexpected argument "${positionals[spec.max]}"`, command };
  return { command, values, positionals };
}

/** parseArgs's own messages are good, except that an unknown option may be one of another command. */
function explain(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const message = typeof err.message === 'string' ? err.message : String(e);
  if (err.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message;
  const option = /'([^']+)'/.exec(message)?.[1];
  if (!option) return message;
  const name = option.replace(/^--?/, '');
  return Object.prototype.hasOwnProperty.call(OPTIONS, name) ? `does not take ${option}` : `unknown option ${option}`;
}
