// State store kind `rolling-windows` (docs/factoryguard-features.md): per arm, incremental bucketed
// windows. Redis runs rolling-windows.lua (one call per batch, incremental, idempotent per offset);
// the in-memory twin keeps the buckets and computes the aggregates from scratch at read time — a
// second, independent implementation that the contract test holds the Lua one to.
import { StateStoreError } from '../../streams/runtime/errors.ts';
import type { RedisState } from '../runtime/state/redis-state.ts';
import type { StateBackend, StateSpec } from '../runtime/state/state-spec.ts';
import {
  BUCKET_MS,
  EMA_TAU_MS,
  LATENESS_BUCKETS,
  RING_BUCKETS,
  SENSOR_CODE,
  SENSORS,
  WINDOW_BUCKETS,
  bucketOf,
  type ArmAggregates,
  type SensorAggregates,
  type SensorKind,
  type Sums,
} from './features.ts';

export interface WindowReading {
  arm: string;
  sensor: SensorKind;
  value: number;
  eventTime: number;
  /** Kafka offset of the reading (the arm's partition): makes a redelivered reading a no-op. */
  offset: number;
}

export type ApplyResult = 'accepted' | 'late' | 'duplicate';

export interface RollingWindowsStore {
  /** Applies readings in order; returns each one's fate and the aggregates of every arm touched. */
  apply(readings: WindowReading[]): Promise<{ results: ApplyResult[]; arms: Map<string, ArmAggregates> }>;
}

const RESULT: Record<number, ApplyResult> = { 1: 'accepted', 2: 'late', 3: 'duplicate' };
const SCRIPT = 'streamscoreRollingWindows';

class RedisRollingWindows implements RollingWindowsStore {
  private readonly redis: RedisState;
  private readonly namespace: string;
  private readonly ttlMs: number;
  constructor(redis: RedisState, namespace: string, ttlMs: number) {
    this.redis = redis;
    this.namespace = namespace;
    this.ttlMs = ttlMs;
    redis.defineScript(SCRIPT, new URL('./rolling-windows.lua', import.meta.url));
  }

  async apply(readings: WindowReading[]) {
    const keyIndex = new Map<string, number>();
    const args: (string | number)[] = [BUCKET_MS, LATENESS_BUCKETS, this.ttlMs];
    for (const r of readings) {
      let k = keyIndex.get(r.arm);
      if (k === undefined) keyIndex.set(r.arm, (k = keyIndex.size + 1));
      args.push(k, SENSOR_CODE[r.sensor], r.value, r.eventTime, r.offset);
    }
    const arms = [...keyIndex.keys()];
    if (arms.length === 0) return { results: [], arms: new Map() };
    const [codes, rows] = (await this.redis.runScript(SCRIPT, arms.map((a) => this.redis.key(this.namespace, a)), args)) as [number[], string[][]];
    const out = new Map<string, ArmAggregates>();
    arms.forEach((arm, i) => {
      const parsed = parseArm(arm, rows[i]);
      if (parsed) out.set(arm, parsed);
    });
    return { results: codes.map((c) => RESULT[c]), arms: out };
  }
}

function parseArm(arm: string, row: string[]): ArmAggregates | null {
  if (!row[0]) return null;
  const agg: ArmAggregates = { arm, head: Number(row[0]), sensors: {} };
  let i = 1;
  const sums = (s: string): Sums => {
    const [n, s1, s2] = s.split(' ').map(Number);
    return { n, s1, s2: s2 ?? 0 };
  };
  for (const sensor of SENSORS) {
    if (row[i] === '') {
      i++;
      continue;
    }
    const ref = Number(row[i++]);
    const windows = [sums(row[i++]), sums(row[i++]), sums(row[i++])] as SensorAggregates['windows'];
    const ema = [0, 1, 2].map(() => row[i++].split(' ').map(Number)) as SensorAggregates['ema'];
    const recent = [sums(row[i++]), sums(row[i++]), sums(row[i++])] as SensorAggregates['recent'];
    agg.sensors[sensor] = { ref, windows, ema, recent };
  }
  if (i !== row.length) throw new StateStoreError(`rolling-windows: unexpected reply shape for ${arm} (${row.length} fields)`);
  return agg;
}

interface MemoryArm {
  head: number;
  offset: number;
  ref: Partial<Record<SensorKind, number>>;
  /** sensor -> bucket -> sums of (value - ref) */
  buckets: Partial<Record<SensorKind, Map<number, Sums>>>;
}

/** From-scratch twin: keeps buckets, derives every aggregate directly from the definitions. */
export class MemoryRollingWindows implements RollingWindowsStore {
  private readonly arms = new Map<string, MemoryArm>();

  async apply(readings: WindowReading[]) {
    const results: ApplyResult[] = [];
    const touched = new Set<string>();
    for (const r of readings) {
      touched.add(r.arm);
      let arm = this.arms.get(r.arm);
      if (arm && r.offset <= arm.offset) {
        results.push('duplicate');
        continue;
      }
      const b = bucketOf(r.eventTime);
      if (!arm) this.arms.set(r.arm, (arm = { head: b, offset: r.offset, ref: {}, buckets: {} }));
      arm.offset = r.offset;
      if (b < arm.head - LATENESS_BUCKETS) {
        results.push('late');
        continue;
      }
      arm.head = Math.max(arm.head, b);
      const ref = (arm.ref[r.sensor] ??= r.value);
      const buckets = (arm.buckets[r.sensor] ??= new Map());
      const sums = buckets.get(b) ?? { n: 0, s1: 0, s2: 0 };
      const d = r.value - ref;
      buckets.set(b, { n: sums.n + 1, s1: sums.s1 + d, s2: sums.s2 + d * d });
      for (const [bb] of buckets) if (bb <= arm.head - RING_BUCKETS) buckets.delete(bb);
      results.push('accepted');
    }
    const out = new Map<string, ArmAggregates>();
    for (const name of touched) {
      const arm = this.arms.get(name);
      if (arm) out.set(name, this.aggregates(name, arm));
    }
    return { results, arms: out };
  }

  private aggregates(name: string, arm: MemoryArm): ArmAggregates {
    const agg: ArmAggregates = { arm: name, head: arm.head, sensors: {} };
    for (const s of SENSORS) {
      const buckets = arm.buckets[s];
      if (!buckets) continue;
      for (const [bb] of buckets) if (bb <= arm.head - RING_BUCKETS) buckets.delete(bb);
      const windows = WINDOW_BUCKETS.map((lb) => {
        const w = { n: 0, s1: 0, s2: 0 };
        for (const [bb, v] of buckets) if (bb > arm.head - lb) { w.n += v.n; w.s1 += v.s1; w.s2 += v.s2; }
        return w;
      }) as SensorAggregates['windows'];
      const ema = EMA_TAU_MS.map((tau) => {
        let num = 0;
        let den = 0;
        for (const [bb, v] of buckets) {
          const w = Math.exp((-(arm.head - bb) * BUCKET_MS) / tau);
          num += (w * v.s1) / v.n;
          den += w;
        }
        return [num, den];
      }) as SensorAggregates['ema'];
      const recent = [0, 1, 2].map((lag) => buckets.get(arm.head - lag) ?? { n: 0, s1: 0, s2: 0 }) as SensorAggregates['recent'];
      agg.sensors[s] = { ref: arm.ref[s]!, windows, ema, recent };
    }
    return agg;
  }
}

/** 12 h of windows plus lateness and a margin: an arm silent for longer starts afresh. */
const DEFAULT_TTL_MS = 13 * 3_600_000;

export function rollingWindows(options: { ttlMs?: number } = {}): StateSpec<RollingWindowsStore> {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  return {
    kind: 'rolling-windows',
    detail: `60 s buckets, 1/6/12 h windows, lateness ${LATENESS_BUCKETS} buckets, TTL ${Math.round(ttlMs / 3_600_000)} h`,
    open(backend: StateBackend, namespace: string) {
      return backend.kind === 'redis' ? new RedisRollingWindows(backend.redis, namespace, ttlMs) : new MemoryRollingWindows();
    },
  };
}
