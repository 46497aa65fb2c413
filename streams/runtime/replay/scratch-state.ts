// Replay's state: the real Redis and the processor's own Lua scripts, so windows and alert episodes
// are bit-identical to the live run's (the in-memory twins agree only within 1e-6), under a scratch
// namespace `<processor>~replay~<uuid>` that no live key shares (stores prefix every key with
// `ss:<namespace>:<store>:`). Every key a script touches gets a short TTL right after the script,
// so a replay that crashes leaves nothing for longer than SCRATCH_TTL_MS; a finished replay
// removes its keys at once with SCAN + UNLINK.
import { randomUUID } from 'node:crypto';
import { KEY_PREFIX, RedisState } from '../state/redis-state.ts';

/** Longer than any replay runs; short enough that a crashed replay's keys do not linger. */
export const SCRATCH_TTL_MS = 6 * 3_600_000;

export function scratchNamespace(processor: string): string {
  return `${processor}~replay~${randomUUID()}`;
}

export class ScratchRedisState extends RedisState {
  /** The stores' scripts set their own (long) TTLs on every write; this shortens them after each. */
  override async runScript(name: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const result = await super.runScript(name, keys, args);
    if (keys.length) {
      const pipeline = this.client.pipeline();
      for (const k of keys) pipeline.pexpire(k, SCRATCH_TTL_MS);
      await pipeline.exec();
    }
    return result;
  }

  /** Unlinks every key of `namespace`; returns how many. */
  async removeNamespace(namespace: string): Promise<number> {
    if (/[*?[\]\\]/.test(namespace)) throw new Error(`scratch namespace ${namespace} contains a glob character`);
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${KEY_PREFIX}:${namespace}:*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length) removed += await this.client.unlink(...keys);
    } while (cursor !== '0');
    return removed;
  }
}
