// Shared pieces of the load tests: a fixed-rate reading generator, latency recording, percentiles.
import type { Producer } from 'kafkajs';
import { TOPICS } from '../schemas/topics.ts';
import type { SensorReading } from '../schemas/generated/types.ts';
import type { AvroSerde } from '../streams/runtime/serde.ts';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export class LatencyRecorder {
  private values: number[] = [];
  add(ms: number): void {
    this.values.push(ms);
  }
  reset(): void {
    this.values = [];
  }
  summary(): { count: number; p50: number; p99: number; max: number } {
    const s = [...this.values].sort((a, b) => a - b);
    return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
  }
}

/**
 * Produces `rate` readings/s for `seconds`, in 10 ms ticks, arms round-robin; event_time is the
 * wall clock at send, so a consumer downstream measures produce -> output latency. Returns the
 * number sent (lower than asked if the producer cannot keep up: that is reported, not hidden).
 */
export async function produceAtRate(producer: Producer, serde: AvroSerde, options: { rate: number; seconds: number; arms: number; gatewayId: string }): Promise<number> {
  const tickMs = 10;
  const perTick = options.rate / (1000 / tickMs);
  const started = Date.now();
  const end = started + options.seconds * 1000;
  const sequence = new Array<number>(options.arms).fill(0);
  let sent = 0;
  let owed = 0;
  let arm = 0;
  const sensors = [['VIBRATION', 'mm/s', 2.8], ['TEMPERATURE', 'degC', 58], ['PRESSURE', 'bar', 6.2]] as const;
  const inFlight = new Set<Promise<unknown>>();
  while (Date.now() < end) {
    const tickStart = Date.now();
    owed += perTick;
    const n = Math.floor(owed);
    owed -= n;
    const messages = [];
    for (let i = 0; i < n; i++) {
      const [sensor, unit, base] = sensors[sent % 3];
      const a = arm++ % options.arms;
      const r: SensorReading = { arm_id: `arm-${String(a).padStart(3, '0')}`, sensor, value: base * (0.95 + 0.1 * Math.random()), unit, event_time: Date.now(), gateway_id: options.gatewayId, plant_id: 'plant-load', sequence: sequence[a]++, quality: 'GOOD' };
      messages.push({ key: r.arm_id, value: serde.encode(TOPICS.sensorReadings.name, r) });
      sent++;
    }
    if (messages.length) {
      const p = producer.send({ topic: TOPICS.sensorReadings.name, messages, acks: -1 }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size > 20) await Promise.race(inFlight);
    }
    const wait = tickMs - (Date.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inFlight);
  return sent;
}
