// Deterministic reading streams that exercise the window logic's edge cases: out-of-order
// arrivals inside and beyond the allowed lateness, silent gaps longer than the 12 h ring, sensors
// that start late, a stuck sensor. Shared by the Redis/memory contract test and the Python parity test.
import { seededRandom } from '../../connectors/sample-readings.ts';
import { SENSORS } from './features.ts';
import type { WindowReading } from './rolling-windows.ts';

export function edgeCaseReadings(options: { arms: number; hours: number; seed: number; start?: number }): WindowReading[] {
  const random = seededRandom(options.seed);
  const start = options.start ?? Date.UTC(2026, 0, 5);
  const out: (WindowReading & { arrival: number })[] = [];
  const offsets = new Map<string, number>();
  for (let arm = 0; arm < options.arms; arm++) {
    const name = `arm-${arm}`;
    let t = start + Math.floor(random() * 600_000);
    const end = start + options.hours * 3_600_000;
    while (t < end) {
      // Every so often the arm goes silent: minutes, an hour, or longer than the 12 h ring.
      const u = random();
      t += u < 0.002 ? 14 * 3_600_000 : u < 0.01 ? 3_600_000 : u < 0.05 ? 600_000 : 20_000 + Math.floor(random() * 40_000);
      for (const sensor of SENSORS) {
        if (sensor === 'PRESSURE' && t < start + 2 * 3_600_000) continue; // a sensor that starts late
        // Arrival jitter: mostly in order, sometimes minutes late (some beyond the 5-bucket lateness).
        const late = random() < 0.05 ? Math.floor(random() * 9 * 60_000) : 0;
        const base = sensor === 'VIBRATION' ? 3 : sensor === 'TEMPERATURE' ? 60 : 6;
        // Arm 1's temperature sensor sticks at one value (not its first) for hours 6-20: exact std 0.
        const stuck = arm === 1 && sensor === 'TEMPERATURE' && t > start + 6 * 3_600_000 && t < start + 20 * 3_600_000;
        const value = stuck ? 71.3 : base + (random() - 0.5) * base * 0.3;
        out.push({ arm: name, sensor, value, eventTime: t - late, offset: 0, arrival: t });
      }
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
