// The FactoryGuard plant simulator: robotic arms with vibration (mm/s RMS), temperature (degC) and
// pressure (bar) sensors, streamed in event-time order from a generator, so days of simulated time
// never sit in memory. The model (docs/gateway.md has the table):
//   - per-arm operating points, a daily + weekly load cycle, temperature lagging ambient + load;
//   - benign disturbances that look a bit like trouble: tool changes (a short vibration spike),
//     heavy jobs (hours of higher load), hot afternoons (plant-wide), pressure recalibration steps;
//   - failures (mean time between failures per arm `mtbfDays`), preceded by 24-72 h of degradation:
//     bearing wear (vibration level and variance rise, temperature creeps up) or a seal leak
//     (pressure drifts down and gets noisy); then the arm is down for 3-8 h and returns repaired.
// Every arm draws from its own seeded streams (one per process), so arm k is the same whether 10 or
// 500 arms are simulated, and failure/disturbance times do not depend on the sample interval.
import type { SensorReading } from '../schemas/generated/types.ts';
import { arm, type ArmModel, type ArmSample } from './plant-arm.ts';
import { Rng, mixSeed } from '../streams/runtime/random.ts';
import { applyDrift, driftProblems, type SimulatorDrift } from './simulator-drift.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface SimulatorOptions {
  /** Number of arms (default 500). */
  arms: number;
  /** Index of the first arm (arm ids are `arm-<index + 1>`): evaluation can use arms training never saw. */
  firstArm: number;
  /** Time between two samples of one sensor (default 60 s; 100 ms = 10 Hz for load tests). */
  intervalMs: number;
  /** Event time of the first sample, epoch ms. */
  start: number;
  /** Simulated time to cover; Infinity streams forever (live mode). */
  durationMs: number;
  seed: number;
  /** Mean time between failures per arm, in days of simulated time. */
  mtbfDays: number;
  plantId: string;
  /** Arms per gateway: gateway ids are `gw-01`, `gw-02`, ... by arm index. */
  armsPerGateway: number;
  /** Called for every disturbance, degradation onset, failure and repair as the simulation reaches it. */
  onEvent?: (e: SimEvent) => void;
  /** Injected sensor drift (simulator-drift.ts); none by default. */
  drift?: SimulatorDrift[];
}

export const DEFAULT_SIMULATOR_OPTIONS: Omit<SimulatorOptions, 'onEvent'> = {
  arms: 500,
  firstArm: 0,
  intervalMs: 60_000,
  start: Date.UTC(2025, 0, 6), // a Monday, so training data starts with a working week
  durationMs: 30 * DAY_MS,
  seed: 1,
  mtbfDays: 200,
  plantId: 'plant-01',
  armsPerGateway: 50,
};

export type FailureMode = 'bearing-wear' | 'seal-leak';

export interface FailureRecord {
  arm_id: string;
  failure_time: number;
  mode: FailureMode;
  repaired_at: number;
  /** When degradation started (24-72 h before the failure). */
  onset: number;
}

export type SimEventKind = 'tool-change' | 'heavy-job' | 'hot-afternoon' | 'recalibration' | 'degradation' | 'failure' | 'repaired';

export interface SimEvent {
  /** `*` for plant-wide events (hot afternoons). */
  arm_id: string;
  kind: SimEventKind;
  start: number;
  end: number;
  detail: string;
}

export const SENSOR_UNITS = { VIBRATION: 'mm/s', TEMPERATURE: 'degC', PRESSURE: 'bar' } as const;

/** Plant-wide conditions at one instant. */
export interface PlantConditions {
  hourOfDay: number;
  weekend: boolean;
  ambient: number;
}

export function armId(index: number): string {
  return `arm-${String(index + 1).padStart(3, '0')}`;
}

export class PlantSimulator {
  readonly options: Readonly<Omit<SimulatorOptions, 'onEvent'>>;
  readonly arms: readonly ArmModel[];
  /** Every failure scheduled so far, including ones after the end whose degradation has begun. */
  readonly failures: FailureRecord[] = [];
  private readonly onEvent: (e: SimEvent) => void;
  private hotDay = { day: NaN, amplitude: 0 };

  constructor(options: Partial<SimulatorOptions> = {}) {
    const o = { ...DEFAULT_SIMULATOR_OPTIONS, ...options };
    const problems = checkOptions(o);
    if (problems.length) throw new Error(`plant simulator: ${problems.join('; ')}`);
    const { onEvent, ...rest } = o as SimulatorOptions;
    this.options = rest;
    this.onEvent = onEvent ?? (() => {});
    const emit = (e: SimEvent) => this.onEvent(e);
    const recordFailure = (f: FailureRecord) => this.failures.push(f);
    this.arms = Array.from({ length: o.arms }, (_, i) => {
      const index = o.firstArm + i;
      return arm({
        index,
        id: armId(index),
        gatewayId: `gw-${String(Math.floor(index / o.armsPerGateway) + 1).padStart(2, '0')}`,
        seed: o.seed,
        start: o.start,
        intervalMs: o.intervalMs,
        mtbfMs: o.mtbfDays * DAY_MS,
        emit,
        recordFailure,
      });
    });
  }

  get end(): number {
    return this.options.start + this.options.durationMs;
  }

  /** Failures whose degradation began before the end (failure_time may lie after it: labels at the tail stay right). */
  failuresInRange(): FailureRecord[] {
    return this.failures.filter((f) => f.onset < this.end).sort((a, b) => a.failure_time - b.failure_time || (a.arm_id < b.arm_id ? -1 : 1));
  }

  /** Plant-wide conditions at `t`: time of day (UTC), weekend, ambient temperature with hot afternoons. */
  conditions(t: number, out: PlantConditions): PlantConditions {
    const day = Math.floor(t / DAY_MS);
    const hour = (t - day * DAY_MS) / HOUR_MS;
    if (day !== this.hotDay.day) {
      const r = new Rng(mixSeed(this.options.seed, 0x407, day));
      const amplitude = r.uniform() < 0.15 ? r.between(5, 10) : 0;
      this.hotDay = { day, amplitude };
      if (amplitude > 0) {
        this.onEvent({ arm_id: '*', kind: 'hot-afternoon', start: day * DAY_MS + 12 * HOUR_MS, end: day * DAY_MS + 19 * HOUR_MS, detail: `ambient +${amplitude.toFixed(1)} degC` });
      }
    }
    const bump = hour > 12 && hour < 19 ? this.hotDay.amplitude * Math.sin((Math.PI * (hour - 12)) / 7) : 0;
    out.hourOfDay = hour;
    out.weekend = (day + 4) % 7 >= 5; // epoch day 0 was a Thursday: 5 = Saturday, 6 = Sunday
    out.ambient = 21 + 3 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + bump;
    return out;
  }

  /** Readings in event-time order (per instant: arm, then VIBRATION, TEMPERATURE, PRESSURE). */
  *readings(): Generator<SensorReading> {
    const { start, intervalMs, plantId, drift = [] } = this.options;
    const end = this.end;
    const env: PlantConditions = { hourOfDay: 0, weekend: false, ambient: 0 };
    const s: ArmSample = { vibration: 0, temperature: 0, pressure: 0 };
    for (let k = 0; ; k++) {
      const t = start + k * intervalMs;
      if (t >= end) return;
      this.conditions(t, env);
      for (const a of this.arms) {
        if (!a.sample(t, env, s)) continue;
        if (drift.length) applyDrift(drift, start, t, s);
        const base = { arm_id: a.id, event_time: t, gateway_id: a.gatewayId, plant_id: plantId, quality: 'GOOD' as const, channel: null, settings: null };
        yield { ...base, sensor: 'VIBRATION', value: round3(s.vibration), unit: SENSOR_UNITS.VIBRATION, sequence: a.sequence++ };
        yield { ...base, sensor: 'TEMPERATURE', value: round3(s.temperature), unit: SENSOR_UNITS.TEMPERATURE, sequence: a.sequence++ };
        yield { ...base, sensor: 'PRESSURE', value: round3(s.pressure), unit: SENSOR_UNITS.PRESSURE, sequence: a.sequence++ };
      }
    }
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function checkOptions(o: SimulatorOptions): string[] {
  const problems: string[] = [];
  const positiveInt = (name: keyof SimulatorOptions, v: number) => {
    if (!Number.isInteger(v) || v < 1) problems.push(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('arms', o.arms);
  positiveInt('intervalMs', o.intervalMs);
  positiveInt('armsPerGateway', o.armsPerGateway);
  if (!Number.isInteger(o.firstArm) || o.firstArm < 0) problems.push(`firstArm must be an integer >= 0, got ${o.firstArm}`);
  if (!Number.isInteger(o.seed)) problems.push(`seed must be an integer, got ${o.seed}`);
  if (!Number.isFinite(o.start)) problems.push(`start must be epoch ms, got ${o.start}`);
  if (!(o.durationMs > 0)) problems.push(`durationMs must be > 0, got ${o.durationMs}`);
  if (!(o.mtbfDays > 0)) problems.push(`mtbfDays must be > 0, got ${o.mtbfDays}`);
  problems.push(...driftProblems(o.drift ?? []));
  return problems;
}
