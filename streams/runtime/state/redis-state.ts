// Redis access for state stores: Lua scripts registered once (EVALSHA afterwards), keys namespaced
// `ss:<processor>:<store>:<key>` and given TTLs so abandoned entities expire. Stores call one script
// per poll batch with all the batch's keys: one EVALSHA per record caps near 40k records/s here,
// one per batch does not. Multi-key scripts assume one Redis (or one hash slot per batch).
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { StateStoreError } from '../errors.ts';

export const KEY_PREFIX = 'ss';

export class RedisState {
  readonly client: Redis;
  private readonly scripts = new Set<string>();

  constructor(url: string) {
    // enableOfflineQueue keeps commands issued during a reconnect; maxRetriesPerRequest bounds how
    // long a batch waits before its error makes the runtime retry the batch.
    this.client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 5, enableOfflineQueue: true });
  }

  async connect(): Promise<void> {
    if (this.client.status === 'wait') await this.client.connect();
  }

  key(namespace: string, key: string): string {
    return `${KEY_PREFIX}:${namespace}:${key}`;
  }

  /** Registers a Lua script file as a command (ioredis sends EVALSHA, falling back to EVAL once). */
  defineScript(name: string, luaFile: URL): void {
    if (this.scripts.has(name)) return;
    // No fixed numberOfKeys: runScript passes the batch's key count on every call.
    this.client.defineCommand(name, { lua: readFileSync(luaFile, 'utf8') });
    this.scripts.add(name);
  }

  /**
   * Runs a script over all of a batch's keys in one round trip. Any failure is a StateStoreError,
   * retriable: the records are not at fault, so the batch is retried rather than dead-lettered.
   */
  async runScript(name: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const command = (this.client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[name];
    if (!this.scripts.has(name) || typeof command !== 'function') throw new Error(`Redis script ${name} is not defined`);
    try {
      return await command.call(this.client, keys.length, ...keys, ...args);
    } catch (err) {
      throw new StateStoreError(`Redis script ${name} failed: ${(err as Error).message}`, err);
    }
  }

  async close(): Promise<void> {
    if (this.client.status !== 'end') await this.client.quit().catch(() => this.client.disconnect());
  }
}
