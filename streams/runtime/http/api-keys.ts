// API keys: the token format, the keys file (only hashes of the secrets, never the secrets), and
// the create / revoke operations the `streamscore api-keys` CLI runs.
//
// A token is `ssk_<id>_<secret>`: 16 hex digits naming the key, then 32 random bytes (base64url).
// The file stores SHA-256 of the whole token. A fast hash is the right one here: the secret is 256
// random bits, so there is nothing to brute-force and no dictionary to precompute, which is what
// slow, salted password hashes (scrypt, argon2) defend against; and a slow hash on every request
// would hand an attacker a CPU lever (~50 ms of scrypt per guess) instead of ~1 µs.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { ApiKeyFileError } from './errors.ts';

export interface RateLimit {
  /** Tokens added to the key's bucket per second. */
  per_second: number;
  /** Bucket size: how many requests may come at once after a quiet spell. */
  burst: number;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** Hex SHA-256 of the whole token. */
  sha256: string;
  scopes: string[];
  created_at: string;
  /** ISO time after which the key is refused. */
  not_after?: string;
  rate_limit?: RateLimit;
  /** Set by `api-keys revoke`; a revoked key is refused like an unknown one. */
  revoked_at?: string;
}

export interface ApiKeyFile {
  version: 1;
  keys: ApiKeyRecord[];
}

export const KNOWN_SCOPES = ['score', 'documents', 'metrics', 'health'] as const;
const TOKEN = /^ssk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

const keyFileSchema = {
  type: 'object',
  required: ['version', 'keys'],
  properties: {
    version: { const: 1 },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'sha256', 'scopes', 'created_at'],
        properties: {
          id: { type: 'string', pattern: '^[0-9a-f]{16}$' },
          name: { type: 'string', minLength: 1, maxLength: 100 },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          scopes: { type: 'array', items: { type: 'string', minLength: 1 } },
          created_at: { type: 'string' },
          not_after: { type: 'string' },
          revoked_at: { type: 'string' },
          rate_limit: {
            type: 'object',
            required: ['per_second', 'burst'],
            properties: { per_second: { type: 'number', exclusiveMinimum: 0 }, burst: { type: 'number', minimum: 1 } },
          },
        },
      },
    },
  },
} as const;
const validateKeyFile = new Ajv({ allErrors: false }).compile<ApiKeyFile>(keyFileSchema);

/** STREAMSCORE_API_KEYS_FILE, else `<STREAMSCORE_DATA_DIR or <repo>/.data>/api-keys.json`. */
export function defaultKeyFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STREAMSCORE_API_KEYS_FILE) return resolve(env.STREAMSCORE_API_KEYS_FILE);
  const repoRoot = new URL('../../../', import.meta.url).pathname;
  return join(resolve(repoRoot, env.STREAMSCORE_DATA_DIR ?? '.data'), 'api-keys.json');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The key id in a well-formed token, else null. */
export function tokenKeyId(token: string): string | null {
  return TOKEN.exec(token)?.[1] ?? null;
}

/** Reads and checks the keys file; a missing file is an error whose hint says how to make one. */
export function readKeyFile(path: string): ApiKeyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiKeyFileError(`no API keys file at ${path}`, 'create a key with `npx streamscore api-keys create --name NAME --scopes score`, or point STREAMSCORE_API_KEYS_FILE at the file');
    throw new ApiKeyFileError(`cannot read the API keys file ${path}: ${code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ApiKeyFileError(`the API keys file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (!validateKeyFile(parsed)) {
    const e = validateKeyFile.errors?.[0];
    throw new ApiKeyFileError(`the API keys file ${path} is not a keys file: ${e?.instancePath || '(root)'} ${e?.message}`);
  }
  return parsed;
}

/** Writes the file whole and renames it in place (a reader never sees half a file), mode 0600. */
export function writeKeyFile(path: string, file: ApiKeyFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

export function readOrEmptyKeyFile(path: string): ApiKeyFile {
  return existsSync(path) ? readKeyFile(path) : { version: 1, keys: [] };
}

/** `50/s`, `600/min`, `1000/h` -> tokens per second, and a burst of one second's worth (at least 1) unless given. */
export function parseRateLimit(spec: string, burst?: number): RateLimit {
  const m = /^(\d+(?:\.\d+)?)\/(s|sec|second|m|min|minute|h|hour)$/.exec(spec.trim());
  if (!m || Number(m[1]) <= 0) throw new ApiKeyFileError(`rate ${JSON.stringify(spec)} is not N/s, N/min or N/h with N > 0`);
  const seconds = m[2].startsWith('s') ? 1 : m[2].startsWith('m') ? 60 : 3600;
  const perSecond = Number(m[1]) / seconds;
  if (burst !== undefined && !(Number.isInteger(burst) && burst >= 1)) throw new ApiKeyFileError(`burst ${burst} is not a whole number >= 1`);
  return { per_second: perSecond, burst: burst ?? Math.max(1, Math.ceil(perSecond)) };
}

/** `30d`, `12h`, `90m` -> milliseconds. */
export function parseDuration(spec: string): number {
  const m = /^(\d+)(d|h|m)$/.exec(spec.trim());
  if (!m || Number(m[1]) <= 0) throw new ApiKeyFileError(`duration ${JSON.stringify(spec)} is not N d, N h or N m (e.g. 30d) with N > 0`);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
}

export interface NewKey {
  name: string;
  scopes: string[];
  rateLimit?: RateLimit;
  expiresInMs?: number;
}

/** Adds a key to the file and returns its token: the only time the secret exists outside the client. */
export function createApiKey(path: string, spec: NewKey, now = Date.now()): { token: string; record: ApiKeyRecord } {
  const unknown = spec.scopes.filter((s) => !(KNOWN_SCOPES as readonly string[]).includes(s));
  if (spec.scopes.length === 0 || unknown.length) throw new ApiKeyFileError(`scopes must be a non-empty list of ${KNOWN_SCOPES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  if (!/^[\w.@ -]{1,100}$/.test(spec.name)) throw new ApiKeyFileError(`name ${JSON.stringify(spec.name)} must be 1-100 letters, digits, spaces or . _ - @`);
  const file = readOrEmptyKeyFile(path);
  let id: string;
  do id = randomBytes(8).toString('hex');
  while (file.keys.some((k) => k.id === id));
  const token = `ssk_${id}_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = { id, name: spec.name, sha256: hashToken(token).toString('hex'), scopes: [...new Set(spec.scopes)], created_at: new Date(now).toISOString() };
  if (spec.expiresInMs !== undefined) record.not_after = new Date(now + spec.expiresInMs).toISOString();
  if (spec.rateLimit) record.rate_limit = spec.rateLimit;
  file.keys.push(record);
  writeKeyFile(path, file);
  return { token, record };
}

/** Marks the key revoked (kept in the file as a record of what existed); false if there is no such key. */
export function revokeApiKey(path: string, id: string, now = Date.now()): ApiKeyRecord | null {
  const file = readKeyFile(path);
  const key = file.keys.find((k) => k.id === id);
  if (!key) return null;
  key.revoked_at ??= new Date(now).toISOString();
  writeKeyFile(path, file);
  return key;
}
