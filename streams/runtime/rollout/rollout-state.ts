// The rollout of a challenger as the registry records it (docs/models.md "Shadow, canary and
// rollback"): alias `challenger` on the version, and the registered-model tag streamscore.rollout
// saying how it is served: {"stage":"shadow"} (scores the same records, outputs to <topic>.shadow
// only) or {"stage":"canary","fraction":0.1,"salt":"<version>"} (serves the entity keys hashed in).
// A challenger alias without a stage is not served: promoting to challenger and starting a rollout
// are separate, audited steps, and a rollback sets the stage back to "none".
import { createHash } from 'node:crypto';
import { TOPICS, type TopicSpec } from '../../../schemas/topics.ts';
import { rolloutOverrideProblems, type RolloutOverrides } from '../model-registry/policy.ts';

export const CHALLENGER_ALIAS = 'challenger';
export const ROLLOUT_TAG = 'streamscore.rollout';
/** Version tag of each automatic rollback: streamscore.rollback.<n>, JSON (rule, numbers, when, who). */
export const ROLLBACK_TAG_PREFIX = 'streamscore.rollback.';
/**
 * On every output a challenger made: `shadow` (on <topic>.shadow only) or `canary` (on the live
 * topic, for a key hashed into the canary). Champion outputs carry none.
 */
export const ROLE_HEADER = 'streamscore-role';
export const SHADOW_SUFFIX = '.shadow';
/** Shadow topics are for comparison, not consumption: kept 3 days. */
const SHADOW_RETENTION_MS = 3 * 24 * 3_600_000;

/**
 * `rules`: this rollout's own rules over the policy's (models/policy/policy.json), e.g.
 * {"off":["score_psi"]}, which the steward writes for a version it retrained (policy.ts retrained_rollout).
 */
export type RolloutStage = ({ stage: 'shadow' } | { stage: 'canary'; fraction: number; salt: string }) & { rules?: RolloutOverrides };
export type Role = 'champion' | 'shadow' | 'canary';

/** The tag's value parsed; null for no tag or stage "none"; a malformed tag throws naming the problem. */
export function parseRolloutTag(value: string | undefined | null): RolloutStage | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  let raw: { stage?: unknown; fraction?: unknown; salt?: unknown; rules?: unknown };
  try {
    raw = JSON.parse(value);
  } catch {
    throw new Error(`${ROLLOUT_TAG} is not JSON: ${JSON.stringify(value)}`);
  }
  if (raw.stage === 'none') return null;
  const problems = rolloutOverrideProblems(raw.rules, `${ROLLOUT_TAG}: rules`);
  if (problems.length) throw new Error(problems.join('; '));
  const rules = raw.rules === undefined ? {} : { rules: raw.rules as RolloutOverrides };
  if (raw.stage === 'shadow') return { stage: 'shadow', ...rules };
  if (raw.stage === 'canary') {
    const fraction = raw.fraction;
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) throw new Error(`${ROLLOUT_TAG}: a canary fraction must be a number in (0, 1), got ${JSON.stringify(fraction)}`);
    if (typeof raw.salt !== 'string' || raw.salt === '') throw new Error(`${ROLLOUT_TAG}: a canary needs a salt (the challenger's version), got ${JSON.stringify(raw.salt)}`);
    return { stage: 'canary', fraction, salt: raw.salt, ...rules };
  }
  throw new Error(`${ROLLOUT_TAG}: stage must be "shadow", "canary" or "none", got ${JSON.stringify(raw.stage)}`);
}

export const rolloutKey = (s: RolloutStage | null): string => JSON.stringify(s);

/**
 * Whether an entity key is served by the canary: u32be(sha256(salt + ':' + key)[0..4]) / 2^32 <
 * fraction. A hash, not a random draw, so every instance (and churn's batch scoring, which has a
 * Python twin: models/common/canary.py) puts a key in the same arm, and a key stays in its arm for
 * the whole canary; the salt (the challenger's version) gives each canary a fresh set of keys.
 */
export function inCanary(salt: string, key: string, fraction: number): boolean {
  const digest = createHash('sha256').update(`${salt}:${key}`, 'utf8').digest();
  return digest.readUInt32BE(0) / 2 ** 32 < fraction;
}

const CATALOGUE = new Set<string>(Object.values(TOPICS).map((t) => t.name));

/**
 * The shadow twin of a live output topic: same schema and key, `<topic>.shadow`, short retention.
 * Refused when the name is a catalogue topic, so a shadow can never write where users read.
 */
export function shadowSpec(live: TopicSpec): TopicSpec {
  const name = `${live.name}${SHADOW_SUFFIX}`;
  if (CATALOGUE.has(name) || live.name.endsWith(SHADOW_SUFFIX)) throw new Error(`shadow topic ${name} would be a catalogue or shadow topic: refusing to write a challenger's outputs there`);
  return { ...live, name, retentionMs: SHADOW_RETENTION_MS, exactlyOnce: live.exactlyOnce, doc: `Shadow (challenger) outputs of ${live.name}; never consumed by users.` };
}
