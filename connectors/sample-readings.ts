// Seeded synthetic sensor readings for the demo and tests: a few arms, three sensors each, values
// around plausible operating points with noise. (The plant simulator with degradation and failures
// is connectors/plant-simulator.ts; this is only enough data to show the path end to end.)
import type { SensorReading } from '../schemas/generated/types.ts';
import { seededRandom } from '../streams/runtime/random.ts';

export { seededRandom };

const OPERATING_POINT = {
  VIBRATION: { unit: 'mm/s', mean: 2.8, noise: 0.4 },
  TEMPERATURE: { unit: 'degC', mean: 58, noise: 1.5 },
  PRESSURE: { unit: 'bar', mean: 6.2, noise: 0.15 },
} as const;

export interface SampleOptions {
  arms: number;
  samplesPerSensor: number;
  intervalMs: number;
  start: number;
  seed?: number;
  plantId?: string;
  gatewayId?: string;
}

/** Readings in time order; each arm's `sequence` counts its readings across sensors from 0. */
export function sampleReadings(o: SampleOptions): SensorReading[] {
  const random = seededRandom(o.seed ?? 42);
  const sequence = new Array<number>(o.arms).fill(0);
  const out: SensorReading[] = [];
  for (let s = 0; s < o.samplesPerSensor; s++) {
    for (let arm = 0; arm < o.arms; arm++) {
      for (const [sensor, p] of Object.entries(OPERATING_POINT) as [SensorReading['sensor'], (typeof OPERATING_POINT)[keyof typeof OPERATING_POINT]][]) {
        out.push({
          arm_id: `arm-${String(arm + 1).padStart(3, '0')}`,
          sensor,
          value: Math.round((p.mean + (random() * 2 - 1) * p.noise) * 1000) / 1000,
          unit: p.unit,
          event_time: o.start + s * o.intervalMs,
          gateway_id: o.gatewayId ?? 'gw-demo-01',
          plant_id: o.plantId ?? 'plant-demo',
          sequence: sequence[arm]++,
          quality: 'GOOD',
          channel: null,
          settings: null,
        });
      }
    }
  }
  return out;
}
