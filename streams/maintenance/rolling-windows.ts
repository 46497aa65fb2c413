// State store kind `rolling-windows` (docs/factoryguard-features.md): per arm, incremental bucketed
// windows. Redis runs rolling-windows.lua (one call per batch, incremental, idempotent per offset);
// the in-memory twin keeps the buckets and computes the aggregates from scratch at read time — a
// second, independent implementation that the contract test holds the Lua one to.
import { channelOf } from '../../schemas/factory/sensor-reading-rules.ts';
import { StateStoreError, ValidationError } from '../../streams/runtime/errors.ts';
import type { RedisState } from '../runtime/state/redis-state.ts';
import type { StateBackend, StateSpec } from '../runtime/state/state-spec.ts';
import {
  SIMULATOR_SPEC,
  bucketOf,
  type ArmAggregates,
  type ChannelAggregates,
  type FeatureSpec,
  type SensorKind,
  type Sums,
} from './features.ts';

export interface WindowReading {
  arm: string;
  sensor: SensorKind;
  /** The profile channel; null or absent: `sensor` in lower case (every v1 reading). */
  channel?: string | null;
  /** Already normalised by regime when the plant has regimes (regimes.ts). */
  value: number;
  eventTime: number;
  /** Kafka offset of the reading (the arm's partition): makes a redelivered reading a no-op. */
  offset: number;
}

export type ApplyResult = 'accepted' | 'late' | 'duplicate';

export interface RollingWindowsStore {
  readonly spec: FeatureSpec;
  /**
   * Applies readings in order; returns each one's fate, the aggregates of every arm touched, and
   * the arms whose stored state was built with another spec and so started afresh.
   */
  apply(readings: WindowReading[]): Promise<{ results: ApplyResult[]; arms: Map<string, ArmAggregates>; reset: string[] }>;
}

const RESULT: Record<number, ApplyResult> = { 1: 'accepted', 2: 'late', 3: 'duplicate' };
const SCRIPT = 'streamscoreRollingWindows';

/** Channel name -> position in the spec; a reading of another channel is refused with its name. */
function channelIndex(spec: FeatureSpec): (r: WindowReading) => number {
  const index = new Map(spec.channels.map((c, i) => [c.name, i]));
  return (r) => {
    const channel = channelOf({ sensor: r.sensor, channel: r.channel ?? null });
    const i = channel === null ? undefined : index.get(channel);
    if (i === undefined) {
      throw new ValidationError(`rolling-windows: ${r.arm} sent ${channel === null ? `sensor ${r.sensor} without a channel` : `channel ${JSON.stringify(channel)}`}, which the feature spec does not have (${spec.channels.map((c) => c.name).join(', ')})`);
    }
    return i;
  };
}

/** The Lua script's ARGV header: the spec, so one script serves every plant. */
function specArgs(spec: FeatureSpec, ttlMs: number): (string | number)[] {
  return [
    spec.bucketMs, spec.latenessBuckets, ttlMs, spec.ringBuckets,
    spec.windows.length, ...spec.windows.map((w) => w.buckets),
    spec.ema.length, ...spec.ema.map((e) => e.tauMs),
    spec.channels.length, ...spec.channels.map((c) => c.code),
  ];
}

class RedisRollingWindows implements RollingWindowsStore {
  readonly spec: FeatureSpec;
  private readonly redis: RedisState;
  private readonly namespace: string;
  private readonly header: (string | number)[];
  private readonly channelOf: (r: WindowReading) => number;
  constructor(redis: RedisState, namespace: string, spec: FeatureSpec, ttlMs: number) {
    this.redis = redis;
    this.namespace = namespace;
    this.spec = spec;
    this.header = specArgs(spec, ttlMs);
    this.channelOf = channelIndex(spec);
    redis.defineScript(SCRIPT, new URL('./rolling-windows.lua', import.meta.url));
  }

  async apply(readings: WindowReading[]) {
    const keyIndex = new Map<string, number>();
    const args: (string | number)[] = [...this.header];
    for (const r of readings) {
      const code = this.spec.channels[this.channelOf(r)].code;
      let k = keyIndex.get(r.arm);
      if (k === undefined) keyIndex.set(r.arm, (k = keyIndex.size + 1));
      args.push(k, code, r.value, r.eventTime, r.offset);
    }
    const arms = [...keyIndex.keys()];
    if (arms.length === 0) return { results: [], arms: new Map(), reset: [] };
    const [codes, rows, reset] = (await this.redis.runScript(SCRIPT, arms.map((a) => this.redis.key(this.namespace, a)), args)) as [number[], string[][], number[]];
    const out = new Map<string, ArmAggregates>();
    arms.forEach((arm, i) => {
      const parsed = parseArm(arm, rows[i], this.spec);
      if (parsed) out.set(arm, parsed);
    });
    return { results: codes.map((c) => RESULT[c]), arms: out, reset: reset.map((k) => arms[k - 1]) };
  }
}

function parseArm(arm: string, row: string[], spec: FeatureSpec): ArmAggregates | null {
  if (!row[0]) return null;
  const agg: ArmAggregates = { arm, head: Number(row[0]), spec, channels: {} };
  let i = 1;
  const sums = (s: string): Sums => {
    const [n, s1, s2] = s.split(' ').map(Number);
    return { n, s1, s2: s2 ?? 0 };
  };
  for (const c of spec.channels) {
    if (row[i] === '') {
      i++;
      continue;
    }
    const ref = Number(row[i++]);
    const windows = spec.windows.map(() => sums(row[i++]));
    const ema = spec.ema.map(() => row[i++].split(' ').map(Number) as [number, number]);
    const recent = [sums(row[i++]), sums(row[i++]), sums(row[i++])] as ChannelAggregates['recent'];
    agg.channels[c.name] = { ref, windows, ema, recent };
  }
  if (i !== row.length) throw new StateStoreError(`rolling-windows: unexpected reply shape for ${arm} (${row.length} fields)`);
  return agg;
}

interface MemoryArm {
  head: number;
  offset: number;
  /** By channel index. */
  ref: number[];
  /** Channel index -> bucket -> sums of (value - ref). */
  buckets: Map<number, Sums>[];
}

/** From-scratch twin: keeps buckets, derives every aggregate directly from the definitions. */
export class MemoryRollingWindows implements RollingWindowsStore {
  readonly spec: FeatureSpec;
  private readonly arms = new Map<string, MemoryArm>();
  private readonly channelOf: (r: WindowReading) => number;
  constructor(spec: FeatureSpec = SIMULATOR_SPEC) {
    this.spec = spec;
    this.channelOf = channelIndex(spec);
  }

  async apply(readings: WindowReading[]) {
    const { bucketMs, latenessBuckets, ringBuckets } = this.spec;
    const channels = readings.map(this.channelOf);
    const results: ApplyResult[] = [];
    const touched = new Set<string>();
    readings.forEach((r, j) => {
      touched.add(r.arm);
      let arm = this.arms.get(r.arm);
      if (arm && r.offset <= arm.offset) {
        results.push('duplicate');
        return;
      }
      const b = bucketOf(r.eventTime, bucketMs);
      if (!arm) this.arms.set(r.arm, (arm = { head: b, offset: r.offset, ref: [], buckets: [] }));
      arm.offset = r.offset;
      if (b < arm.head - latenessBuckets) {
        results.push('late');
        return;
      }
      arm.head = Math.max(arm.head, b);
      const c = channels[j];
      const ref = (arm.ref[c] ??= r.value);
      const buckets = (arm.buckets[c] ??= new Map());
      const sums = buckets.get(b) ?? { n: 0, s1: 0, s2: 0 };
      const d = r.value - ref;
      buckets.set(b, { n: sums.n + 1, s1: sums.s1 + d, s2: sums.s2 + d * d });
      for (const [bb] of buckets) if (bb <= arm.head - ringBuckets) buckets.delete(bb);
      results.push('accepted');
    });
    const out = new Map<string, ArmAggregates>();
    for (const name of touched) {
      const arm = this.arms.get(name);
      if (arm) out.set(name, this.aggregates(name, arm));
    }
    return { results, arms: out, reset: [] };
  }

  private aggregates(name: string, arm: MemoryArm): ArmAggregates {
    const { bucketMs, ringBuckets } = this.spec;
    const agg: ArmAggregates = { arm: name, head: arm.head, spec: this.spec, channels: {} };
    this.spec.channels.forEach((channel, c) => {
      const buckets = arm.buckets[c];
      if (!buckets) return;
      for (const [bb] of buckets) if (bb <= arm.head - ringBuckets) buckets.delete(bb);
      const windows = this.spec.windows.map(({ buckets: lb }) => {
        const w = { n: 0, s1: 0, s2: 0 };
        for (const [bb, v] of buckets) if (bb > arm.head - lb) { w.n += v.n; w.s1 += v.s1; w.s2 += v.s2; }
        return w;
      });
      const ema = this.spec.ema.map(({ tauMs }): [number, number] => {
        let num = 0;
        let den = 0;
        for (const [bb, v] of buckets) {
          const w = Math.exp((-(arm.head - bb) * bucketMs) / tauMs);
          num += (w * v.s1) / v.n;
          den += w;
        }
        return [num, den];
      });
      const recent = [0, 1, 2].map((lag) => buckets.get(arm.head - lag) ?? { n: 0, s1: 0, s2: 0 }) as ChannelAggregates['recent'];
      agg.channels[channel.name] = { ref: arm.ref[c], windows, ema, recent };
    });
    return agg;
  }
}

/**
 * How long a silent arm's state is kept: the ring plus the lateness plus an hour. Longer silences
 * leave every window empty anyway, so the arm starts afresh (13 h 5 min for the simulator's 12 h
 * ring of minutes; 36 h for a 30-sample ring of hourly cycles).
 */
export function defaultTtlMs(spec: FeatureSpec): number {
  return (spec.ringBuckets + spec.latenessBuckets) * spec.bucketMs + 3_600_000;
}

function describeSpec(spec: FeatureSpec, ttlMs: number): string {
  const hours = (ms: number) => `${+(ms / 3_600_000).toFixed(2)} h`;
  return `${spec.channels.length} channels (${spec.channels.map((c) => `${c.name}=${c.code}`).join(' ')}), ${spec.bucketMs / 1000} s buckets, `
    + `windows ${spec.windows.map((w) => w.label).join('/')}, EMAs ${spec.ema.map((e) => e.label).join('/')}, lateness ${spec.latenessBuckets} buckets, TTL ${hours(ttlMs)}`;
}

/** The store for one plant's feature spec (default: the simulator's). */
export function rollingWindows(options: { spec?: FeatureSpec; ttlMs?: number } = {}): StateSpec<RollingWindowsStore> {
  const spec = options.spec ?? SIMULATOR_SPEC;
  const ttlMs = options.ttlMs ?? defaultTtlMs(spec);
  return {
    kind: 'rolling-windows',
    detail: describeSpec(spec, ttlMs),
    open(backend: StateBackend, namespace: string) {
      return backend.kind === 'redis' ? new RedisRollingWindows(backend.redis, namespace, spec, ttlMs) : new MemoryRollingWindows(spec);
    },
  };
}
