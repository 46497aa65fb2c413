// Redis access for state stores: Lua scripts registered once (EVALSHA afterwards), keys namespaced
// `ss:<processor>:<store>:<key>` and given TTLs so abandoned entities expire. Stores call one script
// per poll batch with all the batch's keys: one EVALSHA per record caps near 40k records/s here,
// one per batch does not. Multi-key scripts assume one Redis (or one hash slot per batch).
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { explainRedisError, redisTlsOptions } from '../connection-security.ts';
import { StateLostError, StateStoreError } from '../errors.ts';

export const KEY_PREFIX = 'ss';

/**
 * A state fence: every script run inside `withFence` first checks, atomically in the same script,
 * that `key` holds `token`, and writes nothing otherwise. The runtime fences each batch with its
 * partition's state marker (state-guard.ts), so a Redis that lost the state (FLUSHALL, restart
 * without persistence, failover) cannot take a single write from a batch: the batch fails with
 * StateLostError before anything is computed from the empty state.
 */
export interface StateFence {
  key: string;
  token: string;
}

const fences = new AsyncLocalStorage<StateFence>();

/** Runs `fn` with every state script it issues (through any store) fenced by `fence`. */
export function withFence<T>(fence: StateFence, fn: () => Promise<T>): Promise<T> {
  return fences.run(fence, fn);
}

const FENCE_ERROR = 'STATE_FENCE';
/** Prepended to every script for its fenced variant: KEYS[1] and ARGV[1] are the fence, the script's own keys and args follow. */
const FENCE_PRELUDE = `local fence_key = table.remove(KEYS, 1)
local fence_token = table.remove(ARGV, 1)
if redis.call('GET', fence_key) ~= fence_token then
  return redis.error_reply('${FENCE_ERROR} ' .. fence_key .. ' does not hold the expected state token')
end
`;

export class RedisState {
  readonly client: Redis;
  private readonly scripts = new Set<string>();

  private readonly url: string;
  /** ioredis' connect() says only "Connection is closed." after a refused AUTH; its 'error' event says why. */
  private lastConnectionError: Error | undefined;

  /** `url`: redis[s]://[USER:PASSWORD@]host:port; TLS files for rediss:// from REDIS_TLS_* (connection-security.ts). */
  constructor(url: string) {
    this.url = url;
    const tls = redisTlsOptions(url);
    // enableOfflineQueue keeps commands issued during a reconnect; maxRetriesPerRequest bounds how
    // long a batch waits before its error makes the runtime retry the batch.
    // commandTimeout: a Redis that accepts the connection but never answers (SIGSTOP, a hung
    // failover) fails the call after 15 s, and the batch is retried, instead of holding it forever.
    this.client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 5, enableOfflineQueue: true, commandTimeout: 15_000, ...(tls ? { tls } : {}) });
    this.client.on('error', (err: Error) => {
      this.lastConnectionError = err;
    });
  }

  /** Throws one clear line (wrong password, untrusted certificate, unreachable) and stops reconnecting. */
  async connect(): Promise<void> {
    if (this.client.status !== 'wait' && this.client.status !== 'end') return;
    this.lastConnectionError = undefined;
    try {
      await this.client.connect();
    } catch (err) {
      this.client.disconnect(); // a refused password or an untrusted certificate will not fix itself
      throw new Error(explainRedisError(this.url, this.lastConnectionError ?? (err as Error)), { cause: err });
    }
  }

  key(namespace: string, key: string): string {
    return `${KEY_PREFIX}:${namespace}:${key}`;
  }

  /** Registers a Lua script file as a command (ioredis sends EVALSHA, falling back to EVAL once). */
  defineScript(name: string, luaFile: URL): void {
    if (this.scripts.has(name)) return;
    // No fixed numberOfKeys: runScript passes the batch's key count on every call.
    const lua = readFileSync(luaFile, 'utf8');
    this.client.defineCommand(name, { lua });
    this.client.defineCommand(`${name}Fenced`, { lua: FENCE_PRELUDE + lua });
    this.scripts.add(name);
  }

  /**
   * Runs a script over all of a batch's keys in one round trip. Any failure is a StateStoreError,
   * retriable: the records are not at fault, so the batch is retried rather than dead-lettered.
   */
  async runScript(name: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const fence = fences.getStore();
    const commands = this.client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>;
    const command = commands[fence ? `${name}Fenced` : name];
    if (!this.scripts.has(name) || typeof command !== 'function') throw new Error(`Redis script ${name} is not defined`);
    try {
      return fence
        ? await command.call(this.client, keys.length + 1, fence.key, ...keys, fence.token, ...args)
        : await command.call(this.client, keys.length, ...keys, ...args);
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (message.includes(FENCE_ERROR)) throw new StateLostError(`state lost in Redis: ${message.slice(message.indexOf(FENCE_ERROR) + FENCE_ERROR.length + 1)}`, err);
      throw new StateStoreError(`Redis script ${name} failed: ${message}`, err);
    }
  }

  async close(): Promise<void> {
    if (this.client.status !== 'end') await this.client.quit().catch(() => this.client.disconnect());
  }
}
