// State store kind `outcome-tallies` of maintenance-outcomes: per arm its label state (label-join.ts
// ArmLabels, as JSON with a revision), per (model, version, day) a tally hash whose fields are the
// outcomes of single alerts and failures, and per input partition what its last batch published.
// - Tallies are counted from the outcome fields, never incremented: setting a field again (a
//   redelivered batch, a correction from a late record) cannot count anything twice.
// - Arms are written by compare-and-set on the revision read with them, so two batches touching one
//   arm at once (partitions consumed concurrently) cannot lose an update: the later one fails with
//   a retriable StateStoreError and is retried on fresh state.
// - The publication record makes a redelivered batch re-send its tallies: its records are no-ops on
//   the state by then, so without it a tally whose first send was lost would wait for the next change.
// One script call per batch writes all of it (fenced by the partition's state marker, redis-state.ts).
import type { RedisState } from '../runtime/state/redis-state.ts';
import type { StateBackend, StateSpec } from '../runtime/state/state-spec.ts';
import { StateStoreError } from '../runtime/errors.ts';
import { emptyArm, tallyOf, type ArmLabels, type OutcomeChange, type Tally } from './label-join.ts';

export interface StoredArm {
  rev: number;
  labels: ArmLabels;
}

/** What a partition's last batch published: its last offset and the tallies it sent. */
export interface Publication {
  lastOffset: number;
  buckets: string[];
}

export interface OutcomeBatchWrite {
  /** `topic/partition` of the batch. */
  partition: string;
  arms: { arm: string; rev: number; labels: ArmLabels }[];
  changes: OutcomeChange[];
  /** Tallies to count and return (those changed, and those a redelivered batch must re-send). */
  publication: Publication;
}

export interface OutcomeStore {
  load(arms: string[], partition: string): Promise<{ arms: StoredArm[]; publication: Publication | null }>;
  save(write: OutcomeBatchWrite): Promise<Tally[]>;
}

export interface OutcomeStoreOptions {
  /** Idle arms expire (an arm taken out of service); longer than any horizon + grace. */
  armTtlMs: number;
  /** A tally outlives the latest label that can still change it. */
  tallyTtlMs: number;
}

const SCRIPT = 'streamscoreOutcomeStore';
const COUNTS = 5;

class RedisOutcomeStore implements OutcomeStore {
  private readonly redis: RedisState;
  private readonly namespace: string;
  private readonly o: OutcomeStoreOptions;
  constructor(redis: RedisState, namespace: string, o: OutcomeStoreOptions) {
    this.redis = redis;
    this.namespace = namespace;
    this.o = o;
    redis.defineScript(SCRIPT, new URL('./outcome-store.lua', import.meta.url));
  }

  async load(arms: string[], partition: string) {
    try {
      const pipeline = this.redis.client.pipeline();
      for (const arm of arms) pipeline.hmget(this.redis.key(this.namespace, `arm:${arm}`), 'rev', 'state');
      pipeline.get(this.redis.key(this.namespace, `pub:${partition}`));
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
      const stored = arms.map((_, i) => {
        const [rev, state] = replies[i][1] as (string | null)[];
        return rev === null || state === null ? { rev: 0, labels: emptyArm() } : { rev: Number(rev), labels: JSON.parse(state) as ArmLabels };
      });
      const pub = replies[arms.length][1] as string | null;
      return { arms: stored, publication: pub ? (JSON.parse(pub) as Publication) : null };
    } catch (err) {
      throw new StateStoreError(`Redis read of the arms' label state failed: ${(err as Error).message}`, err);
    }
  }

  async save(w: OutcomeBatchWrite): Promise<Tally[]> {
    const buckets = [...new Set([...w.publication.buckets, ...w.changes.map((c) => c.bucket)])];
    const index = new Map(buckets.map((b, j) => [b, j + 1]));
    const keys = [this.redis.key(this.namespace, `pub:${w.partition}`), ...w.arms.map((a) => this.redis.key(this.namespace, `arm:${a.arm}`)), ...buckets.map((b) => this.redis.key(this.namespace, `tally:${b}`))];
    const args: (string | number)[] = [this.o.armTtlMs, this.o.tallyTtlMs, JSON.stringify({ ...w.publication, buckets }), w.arms.length, buckets.length];
    for (const a of w.arms) args.push(a.rev, JSON.stringify(a.labels));
    args.push(w.changes.length);
    for (const c of w.changes) args.push(index.get(c.bucket)!, c.field, c.value ?? '');
    const counts = (await this.redis.runScript(SCRIPT, keys, args)) as number[];
    return buckets.map((bucket, j) => {
      const [truePositives, falsePositives, pending, caught, missed] = counts.slice(j * COUNTS, (j + 1) * COUNTS);
      return { bucket, truePositives, falsePositives, pending, caught, missed };
    });
  }
}

/** The test driver's twin: the same contract in process memory (no TTLs). */
class MemoryOutcomeStore implements OutcomeStore {
  private readonly arms = new Map<string, StoredArm>();
  private readonly tallies = new Map<string, Map<string, string>>();
  private readonly publications = new Map<string, Publication>();

  async load(arms: string[], partition: string) {
    return { arms: arms.map((a) => structuredClone(this.arms.get(a) ?? { rev: 0, labels: emptyArm() })), publication: this.publications.get(partition) ?? null };
  }

  async save(w: OutcomeBatchWrite): Promise<Tally[]> {
    for (const a of w.arms) {
      const rev = this.arms.get(a.arm)?.rev ?? 0;
      if (rev !== a.rev) throw new StateStoreError(`OUTCOME_CONFLICT arm ${a.arm} changed since the batch read it`);
    }
    for (const a of w.arms) this.arms.set(a.arm, { rev: a.rev + 1, labels: structuredClone(a.labels) });
    for (const c of w.changes) {
      const t = this.tallies.get(c.bucket) ?? new Map<string, string>();
      if (c.value === null) t.delete(c.field);
      else t.set(c.field, c.value);
      this.tallies.set(c.bucket, t);
    }
    const buckets = [...new Set([...w.publication.buckets, ...w.changes.map((c) => c.bucket)])];
    this.publications.set(w.partition, { ...w.publication, buckets });
    return buckets.map((b) => tallyOf(b, this.tallies.get(b)?.values() ?? []));
  }
}

export function outcomeTallies(o: OutcomeStoreOptions): StateSpec<OutcomeStore> {
  return {
    kind: 'outcome-tallies',
    detail: `label state per arm (TTL ${Math.round(o.armTtlMs / 3_600_000)} h), outcome tallies per model version and day (TTL ${Math.round(o.tallyTtlMs / 86_400_000)} d)`,
    open(backend: StateBackend, namespace: string) {
      return backend.kind === 'redis' ? new RedisOutcomeStore(backend.redis, namespace, o) : new MemoryOutcomeStore();
    },
  };
}
