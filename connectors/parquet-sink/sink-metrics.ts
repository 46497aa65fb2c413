// The Parquet sink's Prometheus metrics (docs/sparkscale.md lists them), on its own registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface SinkMetrics {
  registry: Registry;
  records: Counter<'topic'>;
  files: Counter<'topic'>;
  bytes: Counter<'topic'>;
  deadLettered: Counter<'topic' | 'stage'>;
  lag: Gauge<'topic' | 'partition'>;
  buffered: Gauge<'topic'>;
  flushDuration: Histogram<'topic' | 'reason'>;
}

export function createSinkMetrics(): SinkMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    records: new Counter({ name: 'streamscore_lake_records_total', help: 'Records written to committed lake files', labelNames: ['topic'] as const, registers }),
    files: new Counter({ name: 'streamscore_lake_files_total', help: 'Parquet files committed to the lake', labelNames: ['topic'] as const, registers }),
    bytes: new Counter({ name: 'streamscore_lake_bytes_total', help: 'Bytes of Parquet committed to the lake', labelNames: ['topic'] as const, registers }),
    deadLettered: new Counter({ name: 'streamscore_lake_dead_lettered_total', help: 'Records sent to the dead-letter topic instead of the lake', labelNames: ['topic', 'stage'] as const, registers }),
    lag: new Gauge({
      name: 'streamscore_lake_consumer_lag',
      help: 'High watermark minus the next offset the sink reads, per assigned partition; transaction markers count as read, so 0 when everything is consumed',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    buffered: new Gauge({ name: 'streamscore_lake_buffered_records', help: 'Records buffered in memory, not yet in a committed file', labelNames: ['topic'] as const, registers }),
    flushDuration: new Histogram({
      name: 'streamscore_lake_flush_duration_seconds',
      help: 'Time to encode, write, fsync, rename and commit one partition flush',
      labelNames: ['topic', 'reason'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}
