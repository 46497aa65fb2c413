// Scenarios for the alert state machine, run against the in-memory store (unit test) and the Redis
// Lua store (integration test): both must produce exactly these transitions.
import type { HysteresisRules, ScoredArm } from './alert-hysteresis.ts';

export const RULES: HysteresisRules = { threshold: 0.7, raiseAfter: 1, clearThreshold: 0.4, clearAfter: 3, cooldownMs: 30 * 60_000 };
const MIN = 60_000;

export interface HysteresisCase {
  name: string;
  /** Batches of scores for one arm 'a1'; offsets increase by 10 per step. */
  steps: { p: number; minute: number; replayOf?: number }[];
  /** Expected transition per step ('' for none). */
  expected: string[];
  rules?: Partial<HysteresisRules>;
}

export const CASES: HysteresisCase[] = [
  {
    name: 'with raiseAfter 3, a single high score does not raise; three in a row do',
    rules: { raiseAfter: 3 },
    steps: [0.9, 0.2, 0.8, 0.9, 0.5, 0.75, 0.8, 0.95, 0.99].map((p, i) => ({ p, minute: i })),
    expected: ['', '', '', '', '', '', '', 'RAISED a1-420000', ''],
  },
  {
    name: 'one alert per episode: raise once, stay raised while high, clear after three low scores',
    steps: [0.2, 0.75, 0.9, 0.8, 0.35, 0.3, 0.2, 0.1].map((p, i) => ({ p, minute: i })),
    expected: ['', 'RAISED a1-60000', '', '', '', '', 'CLEARED a1-60000 60000 360000', ''],
  },
  {
    name: 'hovering between the thresholds neither clears nor re-raises (no flapping)',
    steps: [0.72, 0.5, 0.69, 0.5, 0.71, 0.45, 0.5].map((p, i) => ({ p, minute: i })),
    expected: ['RAISED a1-0', '', '', '', '', '', ''],
  },
  {
    name: 'a high score interrupts the run of low scores',
    steps: [0.8, 0.3, 0.3, 0.5, 0.3, 0.3, 0.3].map((p, i) => ({ p, minute: i })),
    expected: ['RAISED a1-0', '', '', '', '', '', 'CLEARED a1-0 0 360000'],
  },
  {
    name: 're-alert only after the cooldown since the clear',
    steps: [
      { p: 0.8, minute: 0 }, { p: 0.1, minute: 1 }, { p: 0.1, minute: 2 }, { p: 0.1, minute: 3 },
      { p: 0.9, minute: 10 }, { p: 0.9, minute: 33 }, { p: 0.9, minute: 34 },
    ],
    expected: ['RAISED a1-0', '', '', `CLEARED a1-0 0 ${3 * MIN}`, '', `RAISED a1-${33 * MIN}`, ''],
  },
  {
    name: 'a redelivered batch re-emits the transition it caused, and nothing else',
    steps: [{ p: 0.2, minute: 0 }, { p: 0.9, minute: 1 }, { p: 0.95, minute: 2 }, { p: 0.9, minute: 1, replayOf: 1 }, { p: 0.95, minute: 2, replayOf: 2 }],
    expected: ['', 'RAISED a1-60000', '', 'RAISED a1-60000', ''],
  },
];

export function scoreFor(step: HysteresisCase['steps'][number], index: number): ScoredArm {
  const at = step.replayOf ?? index;
  return { arm: 'a1', probability: step.p, eventTime: step.minute * MIN, offset: at * 10 + 9, firstOffset: at * 10 };
}

export function formatTransition(t: { kind: string; alertId: string; raisedAt: number; clearedAt?: number } | null): string {
  if (!t) return '';
  return t.kind === 'RAISED' ? `RAISED ${t.alertId}` : `CLEARED ${t.alertId} ${t.raisedAt} ${t.clearedAt}`;
}
