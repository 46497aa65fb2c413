// A clean window of the steward's walk: the candidate stays the challenger in the same stage, with
// no rollback recorded, for the whole window. The rollout controllers of the serving instances are
// what judge it (rollout-controller.ts): a breach deletes the alias, tags the version
// streamscore.rollback.<n> and sets the stage to none, and any of those ends the window here. The
// registry, not the lifecycle topic, is read: it is the record, and a poll cannot miss a message.
import { CHALLENGER_ALIAS, ROLLOUT_TAG, parseRolloutTag } from '../rollout/rollout-state.ts';
import type { MlflowClient } from './mlflow-client.ts';
import { tagOf } from './register.ts';
import { rollbacksOf } from './rollout.ts';

export type WindowOutcome = { clean: true } | { clean: false; reason: string };

export interface WatchWindowOptions {
  client: MlflowClient;
  name: string;
  candidate: string;
  stage: 'shadow' | 'canary';
  until: number;
  pollMs: number;
  now?: () => number;
}

async function rollbackOf(client: MlflowClient, name: string, candidate: string, stage: string): Promise<string | null> {
  const mv = await client.getModelVersion(name, candidate);
  const rollback = mv ? rollbacksOf(mv).at(-1) : undefined;
  return rollback ? `rolled back in ${stage} by ${String(rollback.record.by)}: ${String(rollback.record.rule)} (${String(rollback.record.detail)})` : null;
}

/** One look at the registry: why the window is no longer clean, or null. */
export async function windowBreak(client: MlflowClient, name: string, candidate: string, stage: 'shadow' | 'canary', graceMs = 1_000): Promise<string | null> {
  const rolledBack = await rollbackOf(client, name, candidate, stage);
  if (rolledBack) return rolledBack;
  const challenger = await client.getModelVersionByAlias(name, CHALLENGER_ALIAS);
  if (challenger?.version !== candidate) {
    // A controller's rollback deletes the alias first and writes its record just after: wait for it, so the reason names the rule.
    await new Promise((r) => setTimeout(r, graceMs));
    const late = await rollbackOf(client, name, candidate, stage);
    if (late) return late;
    return challenger ? `alias ${CHALLENGER_ALIAS} was moved to version ${challenger.version} during the ${stage}` : `alias ${CHALLENGER_ALIAS} was removed during the ${stage}`;
  }
  const model = await client.getRegisteredModel(name);
  const current = parseRolloutTag(tagOf(model?.tags, ROLLOUT_TAG))?.stage ?? 'none';
  if (current !== stage) return `the rollout stage was changed to ${current} during the ${stage}`;
  return null;
}

export async function watchWindow(o: WatchWindowOptions): Promise<WindowOutcome> {
  const now = o.now ?? Date.now;
  for (;;) {
    const reason = await windowBreak(o.client, o.name, o.candidate, o.stage);
    if (reason) return { clean: false, reason };
    const left = o.until - now();
    if (left <= 0) return { clean: true };
    await new Promise((r) => setTimeout(r, Math.min(o.pollMs, left)));
  }
}
