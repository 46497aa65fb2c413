// `streamscore documents extract|api|search`: LexiScan on files without a stack (extract), the
// upload API (api) and the search over extracted entities (search).
import { EXTRACT_USAGE, runExtract } from '../streams/documents/extract-files.ts';

const USAGE = `usage: streamscore documents <subcommand>

  extract FILE... [--json] [--ocr auto|always|never] [--model DIR]   entities from files, no stack
  api [--port 8097]                                                   the upload API (POST /v1/documents)
  search [--party P] [--law L] [--type T] [--q TEXT] ...              find documents by what was extracted

${EXTRACT_USAGE}`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'extract') return runExtract(rest);
  if (sub === 'api') return (await import('./documents-serve.ts')).api(rest);
  if (sub === 'search') return (await import('./documents-serve.ts')).search(rest);
  process.stderr.write(sub === undefined || sub === '--help' || sub === '-h' ? USAGE : `streamscore documents: unknown subcommand ${JSON.stringify(sub)}\n\n${USAGE}`);
  return sub === '--help' || sub === '-h' ? 0 : 2;
}
