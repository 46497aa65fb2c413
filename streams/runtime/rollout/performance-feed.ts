// The fourth rollback rule: "worse precision on delayed labels". Precision per model version and
// event-time day arrives on models.performance.v1 (the maintenance-outcomes processor, `churn
// evaluate`), long after the predictions, as a running tally: the latest record per (model,
// version, day) is current. This feed reads the topic from the beginning with a throwaway group and
// answers, for a challenger in rollout, its precision and the champion's over the SAME days (the
// days the challenger has judged alerts on), so a quiet week for one and a busy one for the other
// are not compared. Tallies name the model's own version string (model-meta.json's model_version);
// the rollout names registry versions, so the feed maps them through the version tag
// `streamscore.model_version` and the `champion` alias, cached and refreshed off the hot path.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { TOPICS, loadSchema } from '../../../schemas/topics.ts';
import type { ModelPerformance } from '../../../schemas/generated/types.ts';
import type { Logger } from '../logger.ts';
import type { MlflowClient } from '../model-registry/mlflow-client.ts';
import { TAG, tagOf } from '../model-registry/register.ts';
import type { Breach, RolloutRule } from '../model-registry/rollout-controller.ts';
import { errorLine } from '../retry.ts';
import { ConfluentSchemaStore } from '../schema-store.ts';
import { AvroSerde } from '../serde.ts';

/** Judged alerts (TP + FP) the challenger needs before its precision counts: a day or two of one arm is noise. */
export const DEFAULT_MIN_JUDGED = 20;
/** Roll back when the challenger's precision is below the champion's by more than this. */
export const DEFAULT_PRECISION_MARGIN = 0.1;
/** How long a registry lookup (registry version -> model version, the champion) is trusted. */
const MAPPING_TTL_MS = 30_000;

export interface PrecisionComparison {
  challenger: { precision: number; judged: number };
  champion: { precision: number; judged: number };
  days: string[];
}

export class PerformanceFeed {
  /** Latest tally per model name, model version and day. */
  private readonly tallies = new Map<string, Map<string, Map<string, ModelPerformance>>>();
  private readonly mappings = new Map<string, { at: number; value: string | null }>();
  private readonly refreshing = new Set<string>();
  private consumer: Consumer | null = null;
  private readonly o: { client: MlflowClient; log: Logger; now?: () => number; onFirstUse?: () => void };

  /** `onFirstUse` starts reading the topic when a rule first asks (chunks flow, so the runner's Kafka client exists). */
  constructor(o: { client: MlflowClient; log: Logger; now?: () => number; onFirstUse?: () => void }) {
    this.o = o;
  }

  /** Keeps a tally (the consumer calls this; so can a test). A later computed_at wins. */
  add(p: ModelPerformance): void {
    const versions = this.tallies.get(p.model_name) ?? new Map<string, Map<string, ModelPerformance>>();
    const days = versions.get(p.model_version) ?? new Map<string, ModelPerformance>();
    const held = days.get(p.day);
    if (!held || held.computed_at <= p.computed_at) days.set(p.day, p);
    versions.set(p.model_version, days);
    this.tallies.set(p.model_name, versions);
  }

  /** Reads models.performance.v1 from the beginning (retention: 5 years, a few records a day per version). */
  async start(kafka: Kafka, schemaRegistryUrl: string): Promise<void> {
    const serde = new AvroSerde(new ConfluentSchemaStore(schemaRegistryUrl, { log: this.o.log }));
    serde.useReader(TOPICS.modelPerformance.name, loadSchema(TOPICS.modelPerformance.schema));
    const consumer = kafka.consumer({ groupId: `performance-feed-${randomUUID()}`, readUncommitted: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: TOPICS.modelPerformance.name, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        try {
          this.add((await serde.decode(TOPICS.modelPerformance.name, message.value)) as ModelPerformance);
        } catch (err) {
          this.o.log.warn({ offset: message.offset, err: errorLine(err) }, 'a models.performance.v1 record could not be decoded; skipped');
        }
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }

  /**
   * The challenger's precision and the champion's over the days the challenger has judged alerts
   * on; null until both have judged alerts on those days (or the registry lookups are not cached yet).
   */
  compare(model: string, registryVersion: string): PrecisionComparison | null {
    this.o.onFirstUse?.();
    const challengerVersion = this.mapped(`${model}\u0000${registryVersion}`, async () => tagOf((await this.o.client.getModelVersion(model, registryVersion))?.tags, TAG.modelVersion) ?? null);
    const championVersion = this.mapped(`${model}\u0000@champion`, async () => tagOf((await this.o.client.getModelVersionByAlias(model, 'champion'))?.tags, TAG.modelVersion) ?? null);
    if (!challengerVersion || !championVersion || challengerVersion === championVersion) return null;
    const versions = this.tallies.get(model);
    const challengerDays = [...(versions?.get(challengerVersion) ?? new Map()).values()].filter((p) => p.true_positives + p.false_positives > 0);
    const days = challengerDays.map((p) => p.day).sort();
    const sum = (tallies: ModelPerformance[]) => {
      const tp = tallies.reduce((n, p) => n + p.true_positives, 0);
      const judged = tallies.reduce((n, p) => n + p.true_positives + p.false_positives, 0);
      return { precision: judged ? tp / judged : NaN, judged };
    };
    const challenger = sum(challengerDays);
    const champion = sum(days.map((d) => versions?.get(championVersion)?.get(d)).filter((p): p is ModelPerformance => p !== undefined));
    if (challenger.judged === 0 || champion.judged === 0) return null;
    return { challenger, champion, days };
  }

  /** A cached registry lookup; a miss starts the lookup and answers null for now. */
  private mapped(key: string, lookup: () => Promise<string | null>): string | null {
    const now = (this.o.now ?? Date.now)();
    const held = this.mappings.get(key);
    if ((!held || now - held.at > MAPPING_TTL_MS) && !this.refreshing.has(key)) {
      this.refreshing.add(key);
      lookup().then((value) => this.mappings.set(key, { at: (this.o.now ?? Date.now)(), value }))
        .catch((err: unknown) => this.o.log.warn({ key, err: errorLine(err) }, 'registry lookup for the precision rule failed; retried at the next chunk'))
        .finally(() => this.refreshing.delete(key));
    }
    return held?.value ?? null;
  }
}

/**
 * The rule: the challenger's delayed-label precision below the champion's minus the margin, once the
 * challenger has at least `min_judged_alerts` judged alerts (policy rollout rules
 * `precision_margin` and `min_judged_alerts`, defaults above).
 */
export function delayedLabelPrecisionRule(feed: PerformanceFeed): RolloutRule {
  return ({ model, version, rules }): Breach | null => {
    const margin = rules.precision_margin ?? DEFAULT_PRECISION_MARGIN;
    const minJudged = rules.min_judged_alerts ?? DEFAULT_MIN_JUDGED;
    const c = feed.compare(model, version);
    if (!c || c.challenger.judged < minJudged || c.challenger.precision >= c.champion.precision - margin) return null;
    return {
      rule: 'precision',
      detail: `delayed-label precision ${c.challenger.precision.toFixed(3)} (${c.challenger.judged} judged alerts) vs champion ${c.champion.precision.toFixed(3)} (${c.champion.judged}) on ${c.days.length} day(s) (-${margin} allowed)`,
      numbers: { challenger_precision: c.challenger.precision, champion_precision: c.champion.precision, challenger_judged: c.challenger.judged, champion_judged: c.champion.judged, margin },
    };
  };
}
