// State store kind `alert-hysteresis`: turns a stream of failure probabilities per arm into alert
// episodes. RAISE after `raiseAfter` consecutive scores >= threshold (and the cooldown since the last
// clear has passed); CLEAR
// after `clearAfter` consecutive scores below clearThreshold (< threshold), so a score hovering at
// the threshold does not flap. One RAISED and one CLEARED per episode, also across redeliveries.
import type { RedisState } from '../runtime/state/redis-state.ts';
import type { StateBackend, StateSpec } from '../runtime/state/state-spec.ts';

export interface HysteresisRules {
  threshold: number;
  /** Consecutive scores at or over the threshold before an alert is raised. */
  raiseAfter: number;
  clearThreshold: number;
  clearAfter: number;
  cooldownMs: number;
}

export interface ScoredArm {
  arm: string;
  probability: number;
  eventTime: number;
  /** Offset of the arm's last reading in the batch, and of its first (for redelivery). */
  offset: number;
  firstOffset: number;
}

export type AlertTransition = { kind: 'RAISED'; alertId: string; raisedAt: number } | { kind: 'CLEARED'; alertId: string; raisedAt: number; clearedAt: number };

export interface AlertHysteresisStore {
  apply(scores: ScoredArm[], rules: HysteresisRules): Promise<(AlertTransition | null)[]>;
}

export function parseTransition(s: string): AlertTransition | null {
  if (!s) return null;
  const [kind, alertId, raised, cleared] = s.split(' ');
  return kind === 'RAISED' ? { kind, alertId, raisedAt: Number(raised) } : { kind: 'CLEARED', alertId, raisedAt: Number(raised), clearedAt: Number(cleared) };
}

const SCRIPT = 'streamscoreAlertHysteresis';
const TTL_MS = 30 * 24 * 3_600_000;

class RedisAlertHysteresis implements AlertHysteresisStore {
  private readonly redis: RedisState;
  private readonly namespace: string;
  constructor(redis: RedisState, namespace: string) {
    this.redis = redis;
    this.namespace = namespace;
    redis.defineScript(SCRIPT, new URL('./alert-hysteresis.lua', import.meta.url));
  }
  async apply(scores: ScoredArm[], r: HysteresisRules) {
    if (scores.length === 0) return [];
    const args: (string | number)[] = [r.threshold, r.clearThreshold, r.clearAfter, r.cooldownMs, TTL_MS, r.raiseAfter];
    for (const s of scores) args.push(s.probability, s.eventTime, s.offset, s.firstOffset);
    const out = (await this.redis.runScript(SCRIPT, scores.map((s) => this.redis.key(this.namespace, s.arm)), args)) as string[];
    return out.map(parseTransition);
  }
}

interface ArmAlertState {
  state: 'CLEAR' | 'RAISED';
  above: number;
  below: number;
  id: string;
  raised: number;
  cleared: number;
  off: number;
  ev: string;
  evOff: number;
}

/** The same state machine in memory, for the test driver and the scoring API. */
export class MemoryAlertHysteresis implements AlertHysteresisStore {
  private readonly arms = new Map<string, ArmAlertState>();
  async apply(scores: ScoredArm[], r: HysteresisRules) {
    return scores.map((s) => {
      const st = this.arms.get(s.arm) ?? { state: 'CLEAR', above: 0, below: 0, id: '', raised: -1, cleared: -1, off: -1, ev: '', evOff: -1 };
      this.arms.set(s.arm, st);
      if (s.offset <= st.off) return st.ev && st.evOff >= s.firstOffset && st.evOff <= s.offset ? parseTransition(st.ev) : null;
      let event = '';
      if (st.state === 'CLEAR') {
        st.above = s.probability >= r.threshold ? st.above + 1 : 0;
        if (st.above >= r.raiseAfter && (st.cleared < 0 || s.eventTime - st.cleared >= r.cooldownMs)) {
          Object.assign(st, { state: 'RAISED', above: 0, below: 0, id: `${s.arm}-${s.eventTime}`, raised: s.eventTime });
          event = `RAISED ${st.id} ${s.eventTime}`;
        }
      } else {
        st.below = s.probability < r.clearThreshold ? st.below + 1 : 0;
        if (st.below >= r.clearAfter) {
          event = `CLEARED ${st.id} ${st.raised} ${s.eventTime}`;
          Object.assign(st, { state: 'CLEAR', below: 0, cleared: s.eventTime });
        }
      }
      st.off = s.offset;
      if (event) Object.assign(st, { ev: event, evOff: s.offset });
      return parseTransition(event);
    });
  }
}

export function alertHysteresis(): StateSpec<AlertHysteresisStore> {
  return {
    kind: 'alert-hysteresis',
    detail: 'per-arm alert episode (RAISED/CLEAR), clear after consecutive low scores, cooldown',
    open(backend: StateBackend, namespace: string) {
      return backend.kind === 'redis' ? new RedisAlertHysteresis(backend.redis, namespace) : new MemoryAlertHysteresis();
    },
  };
}
