// How the Kafka runner serves a registry challenger: the options to open one (its shadow stores on
// the runner's Redis), the watcher's reading of the wanted challenger, the chunk runner and the
// rollout controller whose rollback goes to the registry and models.lifecycle.v1. Only processors
// with model slots and a registry have a rollout; the others get null.
import { hostname } from 'node:os';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { RuntimeMetrics } from '../metrics.ts';
import type { ProcessorDefinition } from '../processor.ts';
import { ConfluentSchemaStore } from '../schema-store.ts';
import type { OpenServingOptions } from '../serving-set.ts';
import type { RedisState } from '../state/redis-state.ts';
import { openStores } from '../state/state-spec.ts';
import { kafkaLifecyclePublisher, type LifecyclePublisher } from '../model-registry/lifecycle-events.ts';
import type { RolloutRules } from '../model-registry/policy.ts';
import type { ModelResolver } from '../model-registry/resolver.ts';
import { RolloutController, policyRolloutRules, type RolloutRule } from '../model-registry/rollout-controller.ts';
import { rollBack } from '../model-registry/rollout.ts';
import { readWantedChallenger, type OpenChallengerOptions, type WantedChallenger } from './challenger.ts';
import { PerformanceFeed, delayedLabelPrecisionRule } from './performance-feed.ts';
import { RolloutRunner } from './rollout-chunk.ts';
import { createRolloutMetrics } from './rollout-metrics.ts';

export interface RolloutSettings {
  /** The rules per model: models/policy/policy.json's `rollout` over rollout_defaults by default. */
  rulesFor?: (model: string) => RolloutRules;
  /** Rules beyond the built-in ones (the delayed-label precision rule is always added). */
  extraRules?: RolloutRule[];
  shadowTimeoutMs?: number;
}

export interface RunnerRollout {
  challengerOptions: OpenChallengerOptions;
  controller: RolloutController;
  runner: RolloutRunner;
  /** The challenger the registry asks for now, less the versions this instance rolled back. */
  wanted(): Promise<WantedChallenger | null>;
  close(): Promise<void>;
}

export function runnerRollout(o: {
  serving: OpenServingOptions;
  resolver: ModelResolver;
  settings?: RolloutSettings;
  /** The runner's Redis (one connection for the live and the shadow state; connected before the first chunk). */
  redis: () => RedisState;
  schemaRegistryUrl: string;
  /** The processor's Kafka client (created after the first set is open, so asked for when a rollback happens). */
  kafka: () => Kafka;
  metrics: RuntimeMetrics;
  instanceId?: string;
  log: Logger;
}): RunnerRollout | null {
  const { serving, resolver, log } = o;
  const client = resolver.registry;
  if (!client || serving.served.slots.length === 0) return null;
  const backendOf = (d: ProcessorDefinition) => (d.state && Object.keys(d.state).length ? { kind: 'redis' as const, redis: o.redis() } : { kind: 'memory' as const });
  const metrics = createRolloutMetrics(o.metrics.registry);
  let publisher: Promise<LifecyclePublisher> | null = null;
  const actor = `rollout-controller/${serving.served.name}/${o.instanceId ?? hostname()}`;
  // Delayed-label precision per version, read from models.performance.v1 once the rule is first judged.
  let performanceStarted: Promise<void> | null = null;
  const performance: PerformanceFeed = new PerformanceFeed({
    client, log,
    onFirstUse: () => {
      performanceStarted ??= Promise.resolve().then(() => performance.start(o.kafka(), o.schemaRegistryUrl)).catch((err: unknown) => {
        log.warn({ err: String(err) }, 'models.performance.v1 could not be read: the delayed-label precision rule asks again at the next judged chunk');
        performanceStarted = null;
      });
    },
  });
  const controller = new RolloutController({
    processor: serving.served.name,
    rulesFor: o.settings?.rulesFor ?? policyRolloutRules(),
    extraRules: [...(o.settings?.extraRules ?? []), delayedLabelPrecisionRule(performance)],
    metrics,
    log,
    rollBack: async (r) => {
      publisher ??= kafkaLifecyclePublisher({ kafka: o.kafka(), store: new ConfluentSchemaStore(o.schemaRegistryUrl, { log }), log });
      publisher.catch(() => (publisher = null));
      await rollBack({ client, publisher: await publisher, actor }, r);
    },
  });
  return {
    challengerOptions: {
      serving,
      fetch: async (w) => (await resolver.resolve({ name: w.slot, committedDir: '' }, w.version)).dir,
      openState: (d, namespace) => openStores(d.state, backendOf(d), namespace),
      copyState: async (d, from, to, keys) => {
        const stores = Object.keys(d.state ?? {});
        if (stores.length) await copyRedisState(o.redis(), stores, from, to, keys);
      },
    },
    controller,
    runner: new RolloutRunner({ processor: serving.served.name, log, metrics, controller, shadowTimeoutMs: o.settings?.shadowTimeoutMs }),
    wanted: () => readWantedChallenger(client, serving.served.slots, log, (slot, version) => controller.rolledBack(slot, version)),
    async close() {
      await Promise.all([...controller.pending]);
      await performanceStarted;
      await performance.close();
      const p = await publisher?.catch(() => null);
      await p?.close().catch(() => undefined);
    },
  };
}

/**
 * Every store's entry of each key copied from one processor namespace to another (openStores names a
 * store's keys ss:<namespace>:<store>:<key>), TTL included; the destination is deleted first, so a
 * key with no live state has no stale reference state from an earlier canary either. One MULTI.
 */
export async function copyRedisState(redis: RedisState, stores: readonly string[], from: string, to: string, keys: readonly string[]): Promise<void> {
  if (stores.length === 0 || keys.length === 0) return;
  const tx = redis.client.multi();
  for (const store of stores) {
    for (const key of keys) {
      const dst = redis.key(`${to}:${store}`, key);
      tx.del(dst);
      tx.copy(redis.key(`${from}:${store}`, key), dst, 'REPLACE');
    }
  }
  const replies = await tx.exec();
  const failed = replies?.find(([err]) => err);
  if (!replies || failed) throw new Error(`copying the live state to ${to} failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
}
