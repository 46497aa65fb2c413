// The Parquet sink's options and the handle of a running sink (sink.ts).
import type { TopicSpec } from '../../schemas/topics.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import type { LakeRule } from './lake-rules.ts';
import type { SinkMetrics } from './sink-metrics.ts';

export interface ParquetSinkOptions {
  brokers: string[];
  registryUrl: string;
  /** Lake root; the dataset lives in `<lakeDir>/<dataset>`. */
  lakeDir: string;
  topic: TopicSpec;
  /** Dataset path under the lake root, e.g. 'telecom/billing_events'. */
  dataset: string;
  /** Timestamp-millis field whose UTC date names the Hive partition (`event_date=`). */
  timeField: string;
  /** The dataset's own rules, checked after the time range and finite numbers every dataset has. */
  rules?: LakeRule[];
  groupId?: string;
  /** Rows per file (per partition flush) before rotating. */
  maxFileRecords?: number;
  /** Estimated memory of one partition's buffered rows before rotating (ROW_OVERHEAD_BYTES in record-decoder.ts). */
  maxFileBytes?: number;
  /** Estimated memory of all buffered rows before the largest buffer is flushed early. */
  maxBufferedBytes?: number;
  /** Oldest buffered record age that forces a flush, so a quiet topic still lands in the lake. */
  rotateMs?: number;
  /** /metrics, /healthz, /readyz port; 0 picks one; null disables. */
  metricsPort?: number | null;
  sessionTimeoutMs?: number;
  /** How often the lag gauge is refreshed from the broker when no batch moves it (default 5 s). */
  lagRefreshMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface RunningSink {
  groupId: string;
  datasetDir: string;
  httpPort: number | null;
  metrics: SinkMetrics;
  isReady(): boolean;
  /** Flushes and commits every buffer, leaves the group. Idempotent. */
  stop(): Promise<void>;
  /** Flushes every buffer now (tests, operators); resolves when committed. */
  flush(): Promise<void>;
  stopped: Promise<void>;
}

export const SINK_DEFAULTS = {
  maxFileRecords: 500_000,
  maxFileBytes: 128 * 1024 * 1024,
  maxBufferedBytes: 384 * 1024 * 1024,
  rotateMs: 60_000,
  lagRefreshMs: 5_000,
};
