// Which topics land in the lake, where, and partitioned by which time field. The Python jobs read
// the same paths (docs/sparkscale.md is the contract).
import { join, resolve } from 'node:path';
import { TOPICS, type TopicSpec } from '../../schemas/topics.ts';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { billingEventRules, type LakeRule } from './lake-rules.ts';

export interface LakeDataset {
  topic: TopicSpec;
  /** Path under the lake root. */
  dataset: string;
  /** Timestamp-millis field whose UTC date is the Hive partition. */
  timeField: string;
  /** Rules of this dataset on top of the ones every dataset has (time range, finite numbers): lake-rules.ts. */
  rules: LakeRule[];
}

export const LAKE_DATASETS = {
  'billing-events': { topic: TOPICS.billingEvents, dataset: 'telecom/billing_events', timeField: 'event_time', rules: billingEventRules },
} as const satisfies Record<string, LakeDataset>;

/** The lake root: STREAMSCORE_LAKE_DIR, default <repo>/.data/lake (the Python jobs resolve it the same way). */
export function defaultLakeDir(env: NodeJS.ProcessEnv = process.env, repoRoot = REPO_ROOT): string {
  return resolve(repoRoot, env.STREAMSCORE_LAKE_DIR?.trim() || join('.data', 'lake'));
}
