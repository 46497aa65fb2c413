// Follows the registry while a processor runs: every STREAMSCORE_MODEL_POLL_MS (10 s by default) it
// reads each slot's alias; when one has moved, it prepares the next serving set off the hot path
// (download and check the files, build the definition, load and check the sessions or start the
// pool, check the topology is the same) and only then swaps it in, between chunks (serving-set.ts).
// Polling rather than a control topic: the registry is the truth, and a lost or late message could
// otherwise leave an instance on a stale model forever; the price is a pickup of up to one period.
// A version that cannot be served (files differ from their sha256, a signature or topology change)
// is refused once, logged, and not tried again until its alias moves; the current set keeps serving.
// A registry that does not answer is retried at the next poll.
import type { Logger } from '../logger.ts';
import { errorLine } from '../retry.ts';
import type { ServedProcessor } from '../served-processor.ts';
import type { ServingSet, ServingSets } from '../serving-set.ts';
import { MlflowError } from './mlflow-http.ts';
import { servedAs, type ModelResolver, type ResolvedSlot } from './resolver.ts';
import { wantedKey, type WantedChallenger } from '../rollout/challenger.ts';

export const DEFAULT_MODEL_POLL_MS = 10_000;

/** STREAMSCORE_MODEL_POLL_MS, checked: a whole number of milliseconds >= 100. */
export function modelPollMsFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.STREAMSCORE_MODEL_POLL_MS?.trim();
  if (!raw) return DEFAULT_MODEL_POLL_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100) throw new Error(`STREAMSCORE_MODEL_POLL_MS must be a whole number of milliseconds >= 100, got ${JSON.stringify(raw)}`);
  return ms;
}

export interface ModelWatcherOptions {
  served: ServedProcessor;
  resolver: ModelResolver;
  sets: ServingSets;
  /** Opens the candidate set (openServingSet with the current definition to compare against), with the wanted challenger. */
  open(resolved: ResolvedSlot[], current: ServingSet, challenger: WantedChallenger | null): Promise<ServingSet>;
  /** Reads the challenger the registry asks for (rollout/challenger.ts); a change of it (alias or stage) also prepares a new set. */
  challenger?: () => Promise<WantedChallenger | null>;
  /** Called after each swap, e.g. so the drift monitors know the new versions. */
  onSwap?(next: ServingSet, old: ServingSet): void;
  pollMs: number;
  log: Logger;
}

export interface ModelWatcher {
  /** One poll now (tests; also what the timer runs). Resolves when any swap it started is done. */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

const versionsKey = (versions: Map<string, string | null>) => JSON.stringify([...versions]);

export function startModelWatcher(o: ModelWatcherOptions): ModelWatcher {
  const { served, resolver, sets, log } = o;
  const refused = new Set<string>();
  let stopped = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const pollOnce = async (): Promise<void> => {
    const current = sets.current();
    const versions = new Map<string, string | null>();
    let challenger: WantedChallenger | null = null;
    try {
      for (const slot of served.slots) versions.set(slot.name, await resolver.aliasVersion(slot.name));
      challenger = (await o.challenger?.()) ?? null;
    } catch (err) {
      log.warn({ err: errorLine(err), retryInMs: o.pollMs }, 'reading the model registry failed; serving the current models and asking again at the next poll');
      return;
    }
    const moved = current.slots.filter((s) => versions.get(s.name) !== s.version);
    const rolloutMoved = o.challenger !== undefined && wantedKey(challenger) !== wantedKey(current.rollout?.wanted);
    const key = versionsKey(versions) + wantedKey(challenger);
    if ((moved.length === 0 && !rolloutMoved) || refused.has(key) || stopped) return;
    const changes = moved.map((s) => ({ model: s.name, alias: resolver.alias, from: s.version ?? 'committed', to: versions.get(s.name) ?? 'committed' }));
    log.info({ changes, ...(rolloutMoved ? { challenger: { from: current.rollout?.wanted ?? null, to: challenger } } : {}) }, 'model alias or rollout moved: preparing the next serving set');
    let next: ServingSet;
    try {
      const resolved = await resolver.resolveAll(served.name, served.slots, versions);
      next = await o.open(resolved, current, challenger);
    } catch (err) {
      if (err instanceof MlflowError && err.retriable) {
        log.warn({ changes, err: errorLine(err) }, 'fetching the new model version failed; serving the current models and trying again at the next poll');
        return;
      }
      refused.add(key);
      log.error({ changes, err: errorLine(err) }, 'REFUSED: the new model version cannot be served; the current models go on serving until the alias moves again');
      return;
    }
    if (stopped) return void (await next.close());
    const old = sets.swap(next);
    o.onSwap?.(next, old);
    log.info({ changes, set: next.id, models: next.slots.map(servedAs) }, 'models swapped: chunks from now on are scored by the new set');
  };

  const poll = (): Promise<void> => {
    // One poll at a time: a slow download must not start a second preparation of the same version.
    running ??= pollOnce().finally(() => (running = null));
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void poll().finally(schedule), o.pollMs);
    timer.unref();
  };
  schedule();
  return {
    poll,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
