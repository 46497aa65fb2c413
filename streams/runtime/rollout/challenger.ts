// The challenger a serving set carries beside its champion: which registered version the registry
// asks for (alias `challenger` + tag streamscore.rollout on one of the processor's model slots), and
// the definition built from the champion's directories with that one slot's directory swapped (the
// other slots, e.g. the other plants' models, score the same in both arms). A shadow gets its own
// state namespace `${processor}~shadow`, so its windows and alert episodes never touch the live
// ones; a canary shares the live stores (an entity is served by one arm while the canary lasts).
// A canary also carries the champion's reference: the champion scores the canary's records too
// (outputs never delivered), so the distribution and latency rules compare both models on the same
// records. Its state is `${processor}~canary-ref`: before every chunk, the chunk's canary entities
// are copied there from the live state (before the challenger writes to them), so the champion
// reads exactly what the challenger reads, and its own writes land in the copy and are thrown away.
import type { Logger } from '../logger.ts';
import type { LoadedModel } from '../models.ts';
import { openProcessorModels } from '../processor-models.ts';
import type { ProcessorDefinition } from '../processor.ts';
import { errorLine } from '../retry.ts';
import { topologyChange } from '../served-processor.ts';
import type { OpenServingOptions, ServingSet } from '../serving-set.ts';
import type { WorkerPool } from '../worker-pool.ts';
import type { MlflowClient } from '../model-registry/mlflow-client.ts';
import { CHALLENGER_ALIAS, ROLLOUT_TAG, parseRolloutTag, type RolloutStage } from './rollout-state.ts';

/** What the registry asks one processor to serve as challenger. */
export interface WantedChallenger {
  slot: string;
  /** The registry version `challenger` points at. */
  version: string;
  stage: RolloutStage;
}

export interface Challenger extends WantedChallenger {
  readonly def: ProcessorDefinition;
  readonly models: Record<string, LoadedModel>;
  readonly pool: WorkerPool | null;
  /** The shadow's own stores (`${processor}~shadow`); null for a canary, which uses the live ones. */
  readonly state: unknown | null;
  /** A canary's champion reference (see the header); null for a shadow, which is compared with the champion's own run. */
  readonly reference: CanaryReference | null;
  /** Set false by the rollout controller on a breach: from the next chunk on, only the champion serves. */
  active: boolean;
  /**
   * Until this wall-clock time the shadow's own state is still filling from the live stream (it
   * starts empty: `rebuild.lookbackMs` after opening, its windows are exact), so its scores are not
   * compared in distribution with the champion's; 0 for a canary, which reads the live state.
   */
  readonly coldUntil: number;
  close(): Promise<void>;
}

export interface CanaryReference {
  /** The champion's stores for the canary keys: `${processor}~canary-ref`, never the live ones. */
  readonly state: unknown;
  /** Copies the live state of `keys` into the reference stores (before each chunk's runs). */
  seed(keys: readonly string[]): Promise<void>;
}

export interface SetRollout {
  wanted: WantedChallenger | null;
  challenger: Challenger | null;
}

export const wantedKey = (w: WantedChallenger | null | undefined): string => JSON.stringify(w ?? null);

/**
 * Reads every slot's challenger alias and rollout tag (one registered-models/get each). At most one
 * challenger per processor: the first slot with both wins, and the others are named in a warning.
 * `excluded` skips versions this instance rolled back (the alias may still exist while its DELETE is
 * retried). A malformed tag is a warning and no challenger, never a failed poll.
 */
export async function readWantedChallenger(client: MlflowClient, slots: readonly { name: string }[], log: Logger, excluded: (slot: string, version: string) => boolean): Promise<WantedChallenger | null> {
  const found: WantedChallenger[] = [];
  for (const slot of slots) {
    const model = await client.getRegisteredModel(slot.name);
    const version = model?.aliases?.find((a) => a.alias === CHALLENGER_ALIAS)?.version;
    if (!model || !version || excluded(slot.name, version)) continue;
    let stage: RolloutStage | null;
    try {
      stage = parseRolloutTag(model.tags?.find((t) => t.key === ROLLOUT_TAG)?.value);
    } catch (err) {
      log.warn({ model: slot.name, err: errorLine(err) }, 'the rollout tag cannot be read: the challenger is not served');
      continue;
    }
    if (stage) found.push({ slot: slot.name, version, stage });
  }
  if (found.length > 1) log.warn({ serving: found[0], ignored: found.slice(1) }, 'several model slots have a challenger in rollout: one challenger per processor at a time');
  return found[0] ?? null;
}

export interface OpenChallengerOptions {
  serving: OpenServingOptions;
  /** The challenger version's directory: the registry's, fetched into the artifact cache (sha256-checked). */
  fetch(wanted: WantedChallenger): Promise<string>;
  /** Opens the definition's stores under another namespace (the runner's Redis, the driver's memory). */
  openState(def: ProcessorDefinition, namespace: string): unknown;
  /**
   * Copies (replacing) the state of `keys` in every store of `def` from the namespace `from` to `to`;
   * a key with no state in `from` has none in `to` afterwards. Absent (the driver's memory stores
   * cannot be copied), a canary reference starts each entity from empty state.
   */
  copyState?(def: ProcessorDefinition, from: string, to: string, keys: readonly string[]): Promise<void>;
}

export const CANARY_REFERENCE_SUFFIX = '~canary-ref';

function canaryReference(o: OpenChallengerOptions, champion: ProcessorDefinition): CanaryReference {
  const namespace = `${champion.name}${CANARY_REFERENCE_SUFFIX}`;
  // Copied at every chunk, not once per key: the live state moves on under other instances after a
  // rebalance, and a copy kept from earlier would miss those readings (its features, hence its
  // scores, would differ from the challenger's by the state alone).
  return {
    state: o.openState(champion, namespace),
    async seed(keys) {
      if (keys.length && o.copyState) await o.copyState(champion, champion.name, namespace, [...new Set(keys)]);
    },
  };
}

/**
 * The challenger for `champion`: fetched (sha256-checked) into the artifact cache, built with its
 * slot swapped, topology compared with the champion's (a challenger may change model versions only,
 * or the shadow outputs would not be comparable and a canary would corrupt the live state), models
 * loaded or its worker pool started.
 */
export async function openChallenger(o: OpenChallengerOptions, champion: ServingSet, wanted: WantedChallenger): Promise<Challenger> {
  const slot = champion.slots.find((s) => s.name === wanted.slot);
  if (!slot) throw new Error(`challenger ${wanted.slot} is not one of the processor's model slots (${champion.slots.map((s) => s.name).join(', ')})`);
  const dir = await o.fetch(wanted);
  const dirs = Object.fromEntries(champion.slots.map((s) => [s.name, s.name === wanted.slot ? dir : s.dir]));
  const def = o.serving.served.build(dirs);
  const change = topologyChange(champion.def, def);
  if (change) throw new Error(`challenger ${wanted.slot} version ${wanted.version}: ${change}`);
  const opened = await openProcessorModels(def, o.serving.settings, o.serving.log, o.serving.source, o.serving.metrics);
  return {
    ...wanted,
    def,
    models: opened.models,
    pool: opened.pool,
    state: wanted.stage.stage === 'shadow' ? o.openState(def, `${def.name}~shadow`) : null,
    reference: wanted.stage.stage === 'canary' ? canaryReference(o, champion.def) : null,
    active: true,
    coldUntil: wanted.stage.stage === 'shadow' ? Date.now() + (def.rebuild?.lookbackMs ?? 0) : 0,
    close: opened.close,
  };
}

/**
 * `set` with the challenger the registry asks for. A challenger that cannot be opened is logged as
 * refused and the set serves its champion alone; `wanted` is kept so the watcher does not try the
 * same challenger again at every poll (only when the alias or the stage moves).
 */
export async function withChallenger(o: OpenChallengerOptions, set: ServingSet, wanted: WantedChallenger | null): Promise<ServingSet> {
  if (!wanted) return { ...set, rollout: { wanted: null, challenger: null } };
  let challenger: Challenger | null = null;
  try {
    challenger = await openChallenger(o, set, wanted);
    o.serving.log.info({ challenger: wanted }, `serving challenger ${wanted.slot} version ${wanted.version} (${wanted.stage.stage})`);
  } catch (err) {
    o.serving.log.error({ challenger: wanted, err: errorLine(err) }, 'REFUSED: the challenger cannot be served; the champion serves alone until the alias or the rollout stage moves');
  }
  return {
    ...set,
    rollout: { wanted, challenger },
    close: async () => {
      await set.close();
      await challenger?.close();
    },
  };
}
