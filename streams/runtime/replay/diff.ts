// Replay's comparison with what the live processor published: outputs matched on (topic, key,
// streamscore-source), the input record that made them. Per topic: same, changed (with the largest
// and mean |difference| of each numeric field that moved, and how many moved by more than 1e-6),
// only live, only replayed; and the alerts raised or cleared differently. Fields the handler stamps
// with the wall clock (ctx.now) are not compared: they say when a run happened, not what it decided.
import { isDeepStrictEqual } from 'node:util';

/** Outputs' wall-clock stamps (the time a handler ran), ignored by the comparison. */
export const STAMP_FIELDS: ReadonlySet<string> = new Set(['scored_at', 'inspected_at', 'extracted_at', 'processed_at']);
/** A numeric field counts as moved when it moves by more than this. */
export const NUMERIC_TOLERANCE = 1e-6;
/** Alert-like outputs: a `state` field with one of these values. */
const ALERT_STATES = new Set(['RAISED', 'CLEARED']);

export interface ComparedOutput {
  topic: string;
  key: string | null;
  /** `topic/partition/offset` of the input record (streamscore-source). */
  source: string;
  value: Record<string, unknown>;
}

export interface NumericDelta {
  field: string;
  max: number;
  mean: number;
  /** Matched pairs whose value moved by more than NUMERIC_TOLERANCE. */
  over: number;
  compared: number;
}

export interface TopicDiff {
  topic: string;
  same: number;
  changed: number;
  onlyLive: number;
  onlyReplay: number;
  /** Numeric top-level fields that differ in at least one matched pair. */
  numeric: NumericDelta[];
}

export interface AlertDifference {
  topic: string;
  key: string | null;
  source: string;
  /** Which run raised or cleared it; `both` when both did, in a different state. */
  side: 'live only' | 'replay only' | 'both';
  live: string | null;
  replay: string | null;
}

export interface ReplayDiff {
  topics: TopicDiff[];
  alerts: AlertDifference[];
  /** No output changed and none is on one side only. */
  identical: boolean;
}

const matchKey = (o: ComparedOutput, n: number) => `${o.topic}\u0000${o.key}\u0000${o.source}\u0000${n}`;

/** Keyed by (topic, key, source, n-th output of that source), so several outputs of one input match in order. */
function index(outputs: ComparedOutput[]): Map<string, ComparedOutput> {
  const seen = new Map<string, number>();
  const byKey = new Map<string, ComparedOutput>();
  for (const o of outputs) {
    const base = matchKey(o, 0);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    byKey.set(matchKey(o, n), o);
  }
  return byKey;
}

function withoutStamps(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).filter(([k]) => !STAMP_FIELDS.has(k)));
}

const isAlert = (v: Record<string, unknown>) => typeof v.state === 'string' && ALERT_STATES.has(v.state);

export function diffOutputs(live: ComparedOutput[], replayed: ComparedOutput[], topics: string[]): ReplayDiff {
  const liveByKey = index(live);
  const replayByKey = index(replayed);
  const stats = new Map(topics.map((t) => [t, { topic: t, same: 0, changed: 0, onlyLive: 0, onlyReplay: 0, deltas: new Map<string, number[]>() }]));
  const statsOf = (topic: string) => {
    let s = stats.get(topic);
    if (!s) stats.set(topic, (s = { topic, same: 0, changed: 0, onlyLive: 0, onlyReplay: 0, deltas: new Map() }));
    return s;
  };
  const alerts: AlertDifference[] = [];
  for (const [k, l] of liveByKey) {
    const s = statsOf(l.topic);
    const r = replayByKey.get(k);
    if (!r) {
      s.onlyLive++;
      if (isAlert(l.value)) alerts.push({ topic: l.topic, key: l.key, source: l.source, side: 'live only', live: describeAlert(l.value), replay: null });
      continue;
    }
    const [a, b] = [withoutStamps(l.value), withoutStamps(r.value)];
    if (isDeepStrictEqual(a, b)) s.same++;
    else {
      s.changed++;
      if ((isAlert(a) || isAlert(b)) && a.state !== b.state) alerts.push({ topic: l.topic, key: l.key, source: l.source, side: 'both', live: describeAlert(a), replay: describeAlert(b) });
    }
    for (const [field, x] of Object.entries(a)) {
      const y = b[field];
      if (typeof x !== 'number' || typeof y !== 'number') continue;
      const list = s.deltas.get(field) ?? [];
      list.push(Math.abs(x - y));
      s.deltas.set(field, list);
    }
  }
  for (const [k, r] of replayByKey) {
    if (liveByKey.has(k)) continue;
    statsOf(r.topic).onlyReplay++;
    if (isAlert(r.value)) alerts.push({ topic: r.topic, key: r.key, source: r.source, side: 'replay only', live: null, replay: describeAlert(r.value) });
  }
  const result = [...stats.values()].map(({ deltas, ...counts }) => ({
    ...counts,
    numeric: [...deltas].flatMap(([field, ds]) => {
      const max = Math.max(...ds);
      return max > 0 ? [{ field, max, mean: ds.reduce((x, y) => x + y, 0) / ds.length, over: ds.filter((d) => d > NUMERIC_TOLERANCE).length, compared: ds.length }] : [];
    }),
  }));
  alerts.sort((x, y) => eventTimeOf(x) - eventTimeOf(y) || String(x.key).localeCompare(String(y.key)));
  return { topics: result, alerts, identical: result.every((t) => t.changed === 0 && t.onlyLive === 0 && t.onlyReplay === 0) };
}

function describeAlert(v: Record<string, unknown>): string {
  const at = typeof v.event_time === 'number' ? ` at ${new Date(v.event_time).toISOString()}` : '';
  const p = Object.entries(v).find(([k, x]) => /probability|score/.test(k) && typeof x === 'number');
  return `${String(v.state)}${at}${p ? ` (${p[0]} ${(p[1] as number).toFixed(3)})` : ''}`;
}

function eventTimeOf(d: AlertDifference): number {
  const m = /at (\S+)/.exec(d.live ?? d.replay ?? '');
  return m ? Date.parse(m[1]) : 0;
}

/** The diff as an operator reads it: one block per topic, then the first `limit` alert differences. */
export function formatDiff(diff: ReplayDiff, limit = 20): string {
  const lines: string[] = [];
  for (const t of diff.topics) {
    lines.push(`${t.topic}: ${t.same} same, ${t.changed} changed, ${t.onlyLive} only live, ${t.onlyReplay} only replayed`);
    for (const n of t.numeric) lines.push(`  ${n.field}: max |Δ| ${n.max.toPrecision(4)}, mean |Δ| ${n.mean.toPrecision(4)}, ${n.over} of ${n.compared} moved by more than ${NUMERIC_TOLERANCE}`);
  }
  if (diff.alerts.length === 0) lines.push('alerts: none raised or cleared differently');
  else {
    lines.push(`alerts raised or cleared differently: ${diff.alerts.length}${diff.alerts.length > limit ? ` (first ${limit})` : ''}`);
    for (const a of diff.alerts.slice(0, limit)) {
      const what = a.side === 'both' ? `live ${a.live}, replay ${a.replay}` : a.side === 'live only' ? `live ${a.live}, replay did not` : `replay ${a.replay}, live did not`;
      lines.push(`  ${a.key ?? '(no key)'}: ${what}  [${a.source}]`);
    }
  }
  lines.push(diff.identical ? 'replay reproduces the live outputs exactly' : 'replay differs from the live outputs');
  return `${lines.join('\n')}\n`;
}
