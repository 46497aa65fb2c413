// The API keys in force, read from the keys file and re-read when the file changes (checked at most
// once per `reloadCheckMs`, on the next request), so keys are added, rotated and revoked without a
// restart. Authentication hashes the presented token and compares it with the stored hash in
// constant time; the token itself is never kept, logged or echoed.
import { statSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { hashToken, readKeyFile, tokenKeyId, type ApiKeyRecord } from './api-keys.ts';
import { ApiKeyFileError } from './errors.ts';
import { TokenBuckets } from './rate-limit.ts';

export type AuthResult =
  | { ok: true; key: ApiKeyRecord }
  | { ok: false; status: 401 | 403; error: 'invalid_request' | 'invalid_token' | 'insufficient_scope'; message: string };

interface ActiveKey {
  record: ApiKeyRecord;
  hash: Buffer;
  notAfter: number;
}

/** Compared against when the key id is unknown, so that case costs the same as a wrong secret. */
const DUMMY_HASH = hashToken('ssk_0000000000000000_unknown');

export class ApiKeyring {
  readonly path: string;
  readonly buckets: TokenBuckets;
  private keys = new Map<string, ActiveKey>();
  private fingerprint = '';
  private checkedAt = 0;
  private readonly reloadCheckMs: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;

  /** Throws ApiKeyFileError when the file is missing or invalid at start: fail fast. */
  constructor(path: string, options: { reloadCheckMs?: number; logger?: Logger; now?: () => number; defaultRateLimit?: { per_second: number; burst: number } } = {}) {
    this.path = path;
    this.reloadCheckMs = options.reloadCheckMs ?? 1000;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.buckets = new TokenBuckets(options.defaultRateLimit ?? { per_second: 50, burst: 50 }, this.now);
    this.load(readKeyFile(path), this.stat());
  }

  /** Key ids, names and scopes in force (for logs: never the hashes). */
  describe(): { id: string; name: string; scopes: string[] }[] {
    return [...this.keys.values()].map(({ record: r }) => ({ id: r.id, name: r.name, scopes: r.scopes }));
  }

  /** Checks an `Authorization: Bearer <token>` (or `X-API-Key`) value for a route needing `scope`. */
  authenticate(presented: string | undefined, scope: string): AuthResult {
    this.maybeReload();
    if (!presented) return { ok: false, status: 401, error: 'invalid_request', message: 'an API key is required: send Authorization: Bearer <key>' };
    const id = tokenKeyId(presented);
    const key = id === null ? undefined : this.keys.get(id);
    const candidate = hashToken(presented);
    const matches = timingSafeEqual(candidate, key?.hash ?? DUMMY_HASH) && key !== undefined;
    if (!matches) return { ok: false, status: 401, error: 'invalid_token', message: 'the API key is not valid (unknown, revoked or mistyped)' };
    if (this.now() > key.notAfter) return { ok: false, status: 401, error: 'invalid_token', message: `API key ${key.record.id} expired at ${key.record.not_after}` };
    if (!key.record.scopes.includes(scope)) return { ok: false, status: 403, error: 'insufficient_scope', message: `API key ${key.record.id} lacks the scope "${scope}" this route needs` };
    return { ok: true, key: key.record };
  }

  /** Seconds until the key may make another request (0: it may now, and one token was taken). */
  takeRateToken(key: ApiKeyRecord): number {
    return this.buckets.take(key.id, key.rate_limit);
  }

  private stat(): string {
    try {
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private maybeReload(): void {
    const now = this.now();
    if (now - this.checkedAt < this.reloadCheckMs) return;
    this.checkedAt = now;
    const fingerprint = this.stat();
    if (fingerprint === this.fingerprint) return;
    if (fingerprint === 'missing') {
      // Deleting the file revokes every key: refusing is the safe reading of "no keys".
      this.logger?.warn({ path: this.path }, 'API keys file is gone: every key is refused until it is back');
      this.load({ keys: [] }, fingerprint);
      return;
    }
    try {
      this.load(readKeyFile(this.path), fingerprint);
      this.logger?.info({ path: this.path, keys: this.describe().map((k) => k.id) }, 'API keys file re-read');
    } catch (err) {
      // A file being edited by hand can be half-written: keep the keys in force, try again later.
      this.logger?.error({ path: this.path, err: err instanceof ApiKeyFileError ? err.message : String(err) }, 'API keys file changed but cannot be used; keeping the keys in force');
      this.fingerprint = fingerprint;
    }
  }

  private load(file: { keys: ApiKeyRecord[] }, fingerprint: string): void {
    const keys = new Map<string, ActiveKey>();
    for (const record of file.keys) {
      if (record.revoked_at) continue;
      const notAfter = record.not_after === undefined ? Infinity : Date.parse(record.not_after);
      // An unparseable expiry refuses the key rather than making it eternal.
      keys.set(record.id, { record, hash: Buffer.from(record.sha256, 'hex'), notAfter: Number.isNaN(notAfter) ? -Infinity : notAfter });
    }
    this.keys = keys;
    this.fingerprint = fingerprint;
    this.buckets.retain(new Set(keys.keys()));
  }
}
