// The gateway's Prometheus metrics (one registry per gateway), served on /metrics with /healthz and
// /readyz (ready = sending directly, i.e. the broker is reachable and the spool is empty).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Spool } from './spool.ts';

export interface GatewayMetrics {
  registry: Registry;
  readingsIn: Counter;
  sent: Counter<'path'>;
  spooled: Counter;
  rejected: Counter<'stage'>;
  sendFailures: Counter;
  brokerUp: Gauge;
}

export function createGatewayMetrics(spool: Spool, options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let droppedSeen = 0;
  new Counter({
    name: 'streamscore_gateway_readings_dropped_total',
    help: 'Spooled readings dropped because the spool was full (policy drop-oldest) or corrupt',
    registers,
    collect() {
      const now = spool.stats.dropped + spool.stats.corrupt;
      if (now > droppedSeen) this.inc(now - droppedSeen);
      droppedSeen = now;
    },
  });
  new Gauge({ name: 'streamscore_gateway_spool_bytes', help: 'Bytes in the on-disk spool', registers, collect() { this.set(spool.bytes); } });
  new Gauge({ name: 'streamscore_gateway_spool_readings', help: 'Readings in the spool waiting for the broker', registers, collect() { this.set(spool.pending); } });
  return {
    registry,
    readingsIn: new Counter({ name: 'streamscore_gateway_readings_in_total', help: 'Readings read from the source', registers }),
    sent: new Counter({ name: 'streamscore_gateway_readings_sent_total', help: 'Readings acknowledged by the broker, by path (direct, or drained from the spool)', labelNames: ['path'] as const, registers }),
    spooled: new Counter({ name: 'streamscore_gateway_readings_spooled_total', help: 'Readings written to the on-disk spool', registers }),
    rejected: new Counter({ name: 'streamscore_gateway_readings_rejected_total', help: 'Readings not sent: unparseable (parse) or invalid (validation); written to the rejects file', labelNames: ['stage'] as const, registers }),
    sendFailures: new Counter({ name: 'streamscore_gateway_send_failures_total', help: 'Failed send attempts (each one spools or retries; nothing is lost)', registers }),
    brokerUp: new Gauge({ name: 'streamscore_gateway_direct', help: '1 while readings go straight to the broker, 0 while they go through the spool', registers }),
  };
}

/** Sums a counter's values (all label sets). */
export async function counterTotal(c: Counter<string>): Promise<number> {
  return (await c.get()).values.reduce((n, v) => n + v.value, 0);
}
