// Deterministic reading streams that exercise the window logic's edge cases: out-of-order
// arrivals inside and beyond the allowed lateness, silent gaps longer than the ring, channels
// that start late, a stuck channel. Shared by the Redis/memory contract test and the Python parity
// test. The default is the simulator's three sensors every 20-60 s; `channels`, `timeScale` and
// `settings` give another plant's stream (e.g. hourly cycles with operating regimes).
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../connectors/sample-readings.ts';
import type { SensorKind } from './features.ts';
import type { WindowReading } from './rolling-windows.ts';

export interface TestChannel {
  /** The reading's channel; omitted for the legacy three (the reading then has only `sensor`). */
  name?: string;
  sensor: SensorKind;
  /** Typical value; readings spread ±15 % around it. */
  base: number;
  /** The value arm 1's second channel sticks at for a while (default 1.2 x base). */
  stuck?: number;
}

/** A reading as a gateway sends it: with the operating settings regime normalisation needs. */
export type TestReading = WindowReading & { settings?: number[] };

const LEGACY_CHANNELS: TestChannel[] = [
  { sensor: 'VIBRATION', base: 3 },
  { sensor: 'TEMPERATURE', base: 60, stuck: 71.3 },
  { sensor: 'PRESSURE', base: 6 },
];

export interface EdgeCaseOptions {
  arms: number;
  /** Length of the stream in hours, before `timeScale`. */
  hours: number;
  seed: number;
  start?: number;
  /** Default: VIBRATION, TEMPERATURE, PRESSURE. The last channel starts late. */
  channels?: TestChannel[];
  /** Multiplies every duration (steps, gaps, lateness jitter): 60 turns the minute-scale stream into an hourly one. */
  timeScale?: number;
  /**
   * Operating conditions: each time step is in one of them (settings = the condition's values plus
   * a little noise), and every channel reads higher in a higher condition, so only regime
   * normalisation makes the channels comparable across conditions.
   */
  settings?: number[][];
}

export function edgeCaseReadings(options: EdgeCaseOptions): TestReading[] {
  const random = seededRandom(options.seed);
  const scale = options.timeScale ?? 1;
  const channels = options.channels ?? LEGACY_CHANNELS;
  const conditions = options.settings;
  const start = options.start ?? Date.UTC(2026, 0, 5);
  const hour = 3_600_000 * scale;
  const out: (TestReading & { arrival: number })[] = [];
  const offsets = new Map<string, number>();
  for (let arm = 0; arm < options.arms; arm++) {
    const name = `arm-${arm}`;
    let t = start + Math.floor(random() * 600_000 * scale);
    const end = start + options.hours * hour;
    while (t < end) {
      // Every so often the arm goes silent: minutes, an hour, or longer than the 12 h ring.
      const u = random();
      t += scale * (u < 0.002 ? 14 * 3_600_000 : u < 0.01 ? 3_600_000 : u < 0.05 ? 600_000 : 20_000 + Math.floor(random() * 40_000));
      const condition = conditions ? Math.floor(random() * conditions.length) : 0;
      const settings = conditions?.[condition].map((s) => s + (random() - 0.5) * 0.01 * (Math.abs(s) + 1));
      channels.forEach((c, i) => {
        if (i === channels.length - 1 && t < start + 2 * hour) return; // a channel that starts late
        // Arrival jitter: mostly in order, sometimes minutes late (some beyond the 5-bucket lateness).
        const late = random() < 0.05 ? Math.floor(random() * 9 * 60_000 * scale) : 0;
        // Arm 1's second channel sticks at one value (not its first) for hours 6-20: exact std 0.
        const stuck = arm === 1 && i === 1 && t > start + 6 * hour && t < start + 20 * hour;
        const base = c.base * (1 + 0.4 * condition);
        const value = stuck ? (c.stuck ?? c.base * 1.2) : base + (random() - 0.5) * base * 0.3;
        const reading: TestReading & { arrival: number } = { arm: name, sensor: c.sensor, value, eventTime: t - late, offset: 0, arrival: t };
        if (c.name !== undefined) reading.channel = c.name;
        if (settings) reading.settings = settings;
        out.push(reading);
      });
    }
  }
  // Arms interleaved by arrival time; a late reading arrives after readings with later event times.
  out.sort((a, b) => a.arrival - b.arrival);
  return out.map(({ arrival: _, ...r }) => {
    const next = (offsets.get(r.arm) ?? -1) + 1;
    offsets.set(r.arm, next);
    return { ...r, offset: next };
  });
}

/**
 * The parity plant (fixtures/parity-plant.json): hourly cycles of five channels — a v1 reading
 * (no channel), a legacy kind that names its channel, three channels that are no legacy kind — in
 * three operating conditions that fixtures/parity-regimes.json normalises.
 */
export const PARITY_PLANT_FILE = fileURLToPath(new URL('./fixtures/parity-plant.json', import.meta.url));
export const PARITY_REGIMES_FILE = fileURLToPath(new URL('./fixtures/parity-regimes.json', import.meta.url));

export function parityPlantReadings(options: { arms: number; hours: number; seed: number }): TestReading[] {
  return edgeCaseReadings({
    ...options,
    timeScale: 60,
    channels: [
      { sensor: 'VIBRATION', base: 3 },
      { name: 'temperature', sensor: 'TEMPERATURE', base: 60 },
      { name: 't50', sensor: 'OTHER', base: 1400 },
      { name: 'oil_temp', sensor: 'OTHER', base: 85 },
      { name: 'p30', sensor: 'OTHER', base: 550 },
    ],
    settings: [[0, 0, 100], [20, 0.7, 100], [35, 0.84, 60]],
  });
}
