// Which topics land in the lake, where, and partitioned by which time field. The Python jobs read
// the same paths (docs/sparkscale.md is the contract).
import { resolve } from 'node:path';
import { TOPICS, type TopicSpec } from '../../schemas/topics.ts';
import { loadStackConfig } from '../../infra/stack/config.ts';

export interface LakeDataset {
  topic: TopicSpec;
  /** Path under the lake root. */
  dataset: string;
  /** Timestamp-millis field whose UTC date is the Hive partition. */
  timeField: string;
}

export const LAKE_DATASETS = {
  'billing-events': { topic: TOPICS.billingEvents, dataset: 'telecom/billing_events', timeField: 'event_time' },
} as const satisfies Record<string, LakeDataset>;

/** STREAMSCORE_LAKE_DIR, else `<data dir>/lake` (the embedded stack's data dir, `.data` by default). */
export function defaultLakeDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.STREAMSCORE_LAKE_DIR?.trim();
  return explicit ? resolve(explicit) : resolve(loadStackConfig(env).dataDir, 'lake');
}
