// `streamscore documents api` (the LexiScan upload API) and `streamscore documents search` (the
// index, queried in-process: no server needed); wired by cli/documents.ts. docs/documents-api.md.
import { openDocumentIndex } from '../connectors/document-index/open-index.ts';
import { SearchQueryError } from '../connectors/document-index/search-sql.ts';
import { SearchParamError, SEARCH_PARAMS, flagsToParams, parseSearchParams } from '../connectors/documents-api/search-params.ts';
import { DEFAULT_INLINE_MAX_BYTES, startDocumentsService } from '../connectors/documents-api/service.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../streams/documents/pages/limits.ts';
import { defaultKeyFilePath } from '../streams/runtime/http/api-keys.ts';
import { ApiConfigError, ApiKeyFileError } from '../streams/runtime/http/errors.ts';
import { ApiKeyring } from '../streams/runtime/http/keyring.ts';
import { protectionFromEnv, type Protection } from '../streams/runtime/http/observability.ts';
import { isLoopback } from '../streams/runtime/http/server.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { serviceEnv } from './env.ts';

const API_USAGE = `usage: streamscore documents api [--port 8097] [--host 127.0.0.1] [--keys FILE] [--no-auth]
                                    [--max-mb 50] [--inline-max-kb 1024] [--upload-buffer-mb 256]
                                    [--metrics key|open] [--health open|key]
  POST /v1/documents (raw body or multipart file) -> 202 {document_id, status: queued, sha256}
  GET  /v1/documents/{id}[?wait=SECONDS]  status: queued (202) | done with the entities | rejected with the reason
  GET  /v1/search?party=&law=&type=&from=&to=&date_label=&amount_min=&amount_max=&currency=&q=&status=&limit=&offset=
  Uploads, status and search need an API key with the "documents" scope (Authorization: Bearer <key>):
    npx streamscore api-keys create --name NAME --scopes documents
  --no-auth        serve without keys: only on a loopback host
  --max-mb         largest document accepted (DOCUMENTS_API_MAX_MB; default ${DEFAULT_DOCUMENT_LIMITS.maxBytes / 1024 / 1024}, the pages step's limit)
  --upload-buffer-mb  upload bodies held in memory at once; more uploads wait, unread (DOCUMENTS_API_UPLOAD_BUFFER_MB; default 256)
  --inline-max-kb  documents up to this size travel inline on docs.uploads.v1, larger by claim check (DOCUMENTS_INLINE_MAX_KB; default ${DEFAULT_INLINE_MAX_BYTES / 1024})
  env: DOCUMENTS_API_PORT, DOCUMENTS_API_HOST, DOCUMENTS_API_METRICS_AUTH (key), DOCUMENTS_API_HEALTH_AUTH (open),
       DATABASE_URL (PostgreSQL index; else SQLite DOCUMENTS_INDEX_PATH, default <data dir>/documents.sqlite),
       STREAMSCORE_BLOB_DIR (default <data dir>/blobs), KAFKA_BROKERS, SCHEMA_REGISTRY_URL
`;

const SEARCH_USAGE = `usage: streamscore documents search [--party P] [--law US-NY|"New York"] [--type T] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                                       [--date-label EFFECTIVE_DATE] [--amount-min N] [--amount-max N] [--currency USD]
                                       [--q "full text words"] [--status queued|done|rejected] [--limit 20] [--offset 0]
  Prints the matching documents as JSON, read from the index the API fills (DATABASE_URL, else the SQLite file).
`;

export async function api(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(API_USAGE);
    return 0;
  }
  const flag = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const env = serviceEnv();
  const logger = createLogger({ component: 'documents-api' });
  try {
    const port = Number(flag('port') ?? env.DOCUMENTS_API_PORT ?? 8097);
    const host = flag('host') ?? env.DOCUMENTS_API_HOST ?? '127.0.0.1';
    const maxMb = Number(flag('max-mb') ?? env.DOCUMENTS_API_MAX_MB ?? DEFAULT_DOCUMENT_LIMITS.maxBytes / 1024 / 1024);
    const inlineKb = Number(flag('inline-max-kb') ?? env.DOCUMENTS_INLINE_MAX_KB ?? DEFAULT_INLINE_MAX_BYTES / 1024);
    const bufferMb = Number(flag('upload-buffer-mb') ?? env.DOCUMENTS_API_UPLOAD_BUFFER_MB ?? 256);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ApiConfigError(`--port ${JSON.stringify(flag('port') ?? env.DOCUMENTS_API_PORT)} is not a port number`);
    if (!(maxMb > 0)) throw new ApiConfigError('--max-mb / DOCUMENTS_API_MAX_MB must be a positive number');
    if (!(bufferMb > 0)) throw new ApiConfigError('--upload-buffer-mb / DOCUMENTS_API_UPLOAD_BUFFER_MB must be a positive number');
    // The record must fit the topic's max.message.bytes with room for its other fields.
    if (!(inlineKb >= 0) || inlineKb * 1024 > 15 * 1024 * 1024) throw new ApiConfigError('--inline-max-kb / DOCUMENTS_INLINE_MAX_KB must be from 0 to 15360 (docs.uploads.v1 takes 16 MiB records)');
    const noAuth = args.includes('--no-auth');
    if (noAuth && !isLoopback(host)) throw new ApiConfigError(`--no-auth is refused on ${host}`, 'without keys the API may only listen on a loopback host; create a key with `npx streamscore api-keys create --scopes documents`');
    const access = { metrics: protection(flag('metrics'), env, 'DOCUMENTS_API_METRICS_AUTH', 'key'), health: protection(flag('health'), env, 'DOCUMENTS_API_HEALTH_AUTH', 'open') };
    const keyring = noAuth ? null : new ApiKeyring(flag('keys') ?? defaultKeyFilePath(env), { logger });
    const service = await startDocumentsService({
      brokers: brokerList(env.KAFKA_BROKERS ?? ''),
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? '',
      port,
      host,
      keyring,
      access,
      maxBytes: Math.round(maxMb * 1024 * 1024),
      inlineMaxBytes: Math.round(inlineKb * 1024),
      uploadBufferBytes: Math.round(bufferMb * 1024 * 1024),
      logger,
      env,
    });
    const auth = keyring ? `keys from ${keyring.path} (scope documents)` : 'NO AUTH (loopback only)';
    process.stderr.write(`documents API on http://${host}:${service.api.port}: POST /v1/documents, GET /v1/documents/{id}, GET /v1/search; index ${service.index.description}; blobs ${service.blobs.describe()}; ${auth}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await service.close();
    return 0;
  } catch (err) {
    if (!(err instanceof ApiConfigError || err instanceof ApiKeyFileError)) throw err;
    process.stderr.write(`streamscore documents api: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    return 1;
  }
}

export async function search(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(SEARCH_USAGE);
    return 0;
  }
  let query;
  try {
    query = parseSearchParams(flagsToParams(args));
  } catch (err) {
    if (!(err instanceof SearchParamError)) throw err;
    const message = err.message.replace(/^unknown search parameter "(\w+)".*$/, (_, n: string) => `unknown flag --${n.replaceAll('_', '-')}`);
    process.stderr.write(`streamscore documents search: ${message}\n  flags: ${SEARCH_PARAMS.map((p) => `--${p.replaceAll('_', '-')}`).join(' ')}\n`);
    return 2;
  }
  const index = await openDocumentIndex(process.env);
  try {
    process.stdout.write(`${JSON.stringify(await index.search(query), null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof SearchQueryError)) throw err;
    process.stderr.write(`streamscore documents search: ${err.message}\n`);
    return 2;
  } finally {
    await index.close();
  }
}

function protection(value: string | undefined, env: NodeJS.ProcessEnv, envName: string, fallback: Protection): Protection {
  if (value === undefined) return protectionFromEnv(env, envName, fallback);
  if (value !== 'open' && value !== 'key') throw new ApiConfigError(`--${envName.includes('METRICS') ? 'metrics' : 'health'} ${JSON.stringify(value)} must be "open" or "key"`);
  return value;
}
