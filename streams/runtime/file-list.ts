// File lists of batch commands (`documents extract FILE...`, `vision inspect IMAGE...`). onnxruntime-node
// 1.30 overflows the stack while it creates a session when the process's command line is long: with
// an 8 MiB stack, 29,970 bytes of arguments die of SIGSEGV and 28,860 do not (gdb: a deep recursion
// inside libonnxruntime; an environment as large does no harm), so `documents extract` over 250 CUAD
// paths from xargs died before its first file and wrote nothing. These commands read a list with
// --files-from (a file, or - for stdin), and re-run themselves that way when their own command line
// is over LONG_COMMAND_LINE, so `xargs ... streamscore documents extract` works at any length.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { parseArgs } from 'node:util';

/** Above this many bytes of arguments a command re-runs itself with its files on stdin (half the crash's size). */
const LONG_COMMAND_LINE = 16_384;

function commandLineBytes(argv: readonly string[] = process.argv): number {
  return argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

/** The paths of a list file, or of stdin for '-': one a line, blank lines skipped. */
function readFileList(source: string): string[] {
  const text = readFileSync(source === '-' ? 0 : source, 'utf8');
  return text.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.trim() !== '');
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/** The arguments less the positional ones (the files), from parseArgs' tokens. */
function optionArgs(args: readonly string[], tokens: readonly Token[]): string[] {
  const positional = new Set(tokens.filter((t) => t.kind === 'positional').map((t) => t.index));
  return args.filter((_, i) => !positional.has(i));
}

/**
 * Runs `command` (the words after the entry script, options included) again with `files` on its
 * stdin as --files-from -, its output and errors on this process's; resolves to its exit code (128 +
 * the signal's number when a signal ended it).
 */
function rerunWithFileList(command: readonly string[], files: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...command, '--files-from', '-'], { stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin.end(files.map((f) => `${f}\n`).join(''));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

/**
 * The files of a batch command run as `command` (the words after the entry script): its positional
 * arguments and the list of --files-from. Or an exit code: the command's, re-run with the files on
 * stdin when the command line is long, or 2 when the list cannot be read (said through `err`).
 */
export async function batchFiles(command: readonly string[], args: readonly string[], parsed: { positionals: string[]; tokens: readonly Token[] }, filesFrom: string | undefined, err: (line: string) => void): Promise<string[] | number> {
  if (!filesFrom && commandLineBytes() > LONG_COMMAND_LINE) return rerunWithFileList([...command, ...optionArgs(args, parsed.tokens)], parsed.positionals);
  try {
    return [...parsed.positionals, ...(filesFrom ? readFileList(filesFrom) : [])];
  } catch (e) {
    err(`streamscore ${command.join(' ')}: --files-from: ${(e as Error).message}`);
    return 2;
  }
}
