// maintenance-outcomes: FactoryGuard's delayed labels joined to its past alerts. It reads the
// scorer's alerts and predictions and the plant's failure events (all keyed by arm_id), keeps per
// arm the RAISED alerts and failures still open in Redis (outcome-store.ts), judges each alert and
// failure (label-join.ts says how) and publishes precision and recall per model version per
// event-time day to models.performance.v1. Predictions are read for two things only: the arm's
// event-time watermark (when an alert's horizon has passed) and the model version a missed failure
// is charged to. No model of its own: it judges the models the scorer served.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOPICS } from '../../schemas/topics.ts';
import type { FailureEvent, MaintenanceAlert, MaintenancePrediction } from '../../schemas/generated/types.ts';
import { defaultPlantRegistry } from '../../schemas/factory/plant-registry.ts';
import { OptionError, parseDuration } from '../../connectors/options.ts';
import { defineProcessor, type HandlerContext, type InputRecord, type OutputRecord } from '../runtime/processor.ts';
import { applyArmEvents, dayOf, type ArmLabels, type LabelEvent, type OutcomeChange, type Tally } from './label-join.ts';
import { outcomeTallies, type OutcomeStore } from './outcome-store.ts';
import { performanceRecord } from './outputs.ts';
import { reportModelPerformance } from '../runtime/model-performance-gauges.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PROCESSOR_NAME = 'maintenance-outcomes';

export interface OutcomesOptions {
  /** How late a failure may be reported before an alert without one counts as a false positive. */
  graceMs: number;
  /** Horizon per model name, for an alert whose arm has no prediction of that model in state. */
  horizons: ReadonlyMap<string, number>;
  /** Horizon of a model no plant profile names. */
  defaultHorizonMs: number;
}

/** Each plant profile's horizon under the name of the model trained for it (its model-meta.json). */
export function horizonsFromProfiles(): Map<string, number> {
  const registry = defaultPlantRegistry();
  const out = new Map<string, number>();
  for (const id of registry.plantIds) {
    const profile = registry.profile(id)!;
    const meta = join(REPO_ROOT, profile.model.artifacts, 'model-meta.json');
    if (!existsSync(meta)) continue; // a plant with no trained model raises no alerts
    out.set((JSON.parse(readFileSync(meta, 'utf8')) as { model_name: string }).model_name, profile.label.horizon_ms);
  }
  return out;
}

/** STREAMSCORE_LABEL_GRACE (a duration, default 12h): see OutcomesOptions.graceMs. */
export function outcomesOptionsFromEnv(env: Record<string, string | undefined> = process.env): OutcomesOptions {
  const graceMs = env.STREAMSCORE_LABEL_GRACE ? parseDuration('STREAMSCORE_LABEL_GRACE', env.STREAMSCORE_LABEL_GRACE) : 12 * HOUR_MS;
  return { graceMs, horizons: horizonsFromProfiles(), defaultHorizonMs: 24 * HOUR_MS };
}

type LabelRecord = InputRecord<MaintenanceAlert | FailureEvent | MaintenancePrediction>;

export function maintenanceOutcomes(o: OutcomesOptions) {
  if (!(o.graceMs >= 0)) throw new OptionError(`label grace must be a duration >= 0, got ${o.graceMs}`);
  const longestHorizon = Math.max(o.defaultHorizonMs, ...o.horizons.values());
  return defineProcessor({
    name: PROCESSOR_NAME,
    description: `Joins the plant's failure events (delayed labels) to past RAISED alerts per arm: TP = failure within the horizon after an alert, FP = no failure by the time the arm's event-time watermark passes the horizon + ${Math.round(o.graceMs / HOUR_MS)} h grace, FN = failure with no alert within the horizon before it; precision and recall per model version per day.`,
    inputs: [TOPICS.maintenanceAlerts, TOPICS.failureEvents, TOPICS.maintenancePredictions],
    outputs: [TOPICS.modelPerformance],
    semantics: 'at-least-once',
    semanticsReason: 'a performance record is a tally counted from outcome fields in Redis, so a redelivered batch re-sends the same counts and consumers keep the latest per (version, day); a transaction would add nothing',
    state: {
      // An arm idle for longer than twice (longest horizon + grace) has nothing left to judge.
      outcomes: outcomeTallies({ armTtlMs: 2 * (longestHorizon + o.graceMs) + DAY_MS, tallyTtlMs: 35 * DAY_MS }),
    },
    // After Redis lost the state: the arms' open alerts and failures come back from the last
    // 2 x (horizon + grace) of input (all that label-join.ts retains) plus a day, so a tally
    // re-counted after a correction has all of its day's outcomes.
    rebuild: { lookbackMs: 2 * (longestHorizon + o.graceMs) + DAY_MS, apply: async (records: LabelRecord[], ctx) => void (await joinBatch(records, ctx, o)) },
    async handle(records: LabelRecord[], ctx) {
      const tallies = await joinBatch(records, ctx, o);
      const now = ctx.now();
      const last = records[records.length - 1];
      return tallies.map((t): OutputRecord => {
        const value = performanceRecord(t, o, now);
        reportModelPerformance({ processor: PROCESSOR_NAME, model: value.model_name, version: value.model_version, day: value.day, precision: value.precision, recall: value.recall });
        return { topic: TOPICS.modelPerformance, key: value.model_name, value, source: last };
      });
    },
  });
}

/** Applies one poll batch (one topic-partition) to the arms' label state; returns the tallies to publish. */
async function joinBatch(records: LabelRecord[], ctx: HandlerContext<{ outcomes: OutcomeStore }>, o: OutcomesOptions): Promise<Tally[]> {
  const byArm = new Map<string, LabelEvent[]>();
  for (const r of records) {
    const e = labelEvent(r, o, ctx.log);
    if (!e) continue;
    const arm = (r.value as { arm_id: string }).arm_id;
    byArm.set(arm, [...(byArm.get(arm) ?? []), e]);
  }
  const first = records[0];
  const partition = `${first.topic}/${first.partition}`;
  const arms = [...byArm.keys()];
  const { arms: stored, publication } = await ctx.state.outcomes.load(arms, partition);
  const writes: { arm: string; rev: number; labels: ArmLabels }[] = [];
  const changes: OutcomeChange[] = [];
  arms.forEach((arm, i) => {
    const events = byArm.get(arm)!.map((e) => (e.kind === 'raised' ? { ...e, model: horizonFor(e.model, stored[i].labels) } : e));
    const next = applyArmEvents(arm, stored[i].labels, events, { graceMs: o.graceMs });
    if (next.changed) writes.push({ arm, rev: stored[i].rev, labels: next.state });
    changes.push(...next.changes);
  });
  // A batch that starts at or before the offset the last one ended is a redelivery: what that one
  // published may never have reached Kafka, so it is sent again with this batch's tallies.
  const redelivered = publication !== null && publication.lastOffset >= Number(first.offset);
  const buckets = redelivered ? publication.buckets : [];
  if (writes.length === 0 && changes.length === 0 && buckets.length === 0) return [];
  return ctx.state.outcomes.save({ partition, arms: writes, changes, publication: { lastOffset: Number(records[records.length - 1].offset), buckets } });
}

/** The label event of one input record, or null for what the join ignores (CLEARED, MAINTENANCE). */
function labelEvent(r: LabelRecord, o: OutcomesOptions, log: { warn: (o: object, m: string) => void }): LabelEvent | null {
  if (r.topic === TOPICS.maintenanceAlerts.name) {
    const a = r.value as MaintenanceAlert;
    // A CLEARED ends the episode its RAISED opened: the episode was judged from its raise.
    if (a.state !== 'RAISED') return null;
    return { kind: 'raised', alertId: a.alert_id, raisedAt: a.raised_at, eventTime: a.event_time, model: { name: a.model_name, version: a.model_version, horizonMs: o.horizons.get(a.model_name) ?? o.defaultHorizonMs } };
  }
  if (r.topic === TOPICS.failureEvents.name) {
    const f = r.value as FailureEvent;
    // MAINTENANCE is planned downtime, not a label (failure-event.avsc).
    return f.kind === 'FAILURE' ? { kind: 'failure', time: f.failure_time } : null;
  }
  const p = r.value as MaintenancePrediction;
  if (!(p.horizon_hours > 0)) {
    log.warn({ arm: p.arm_id, model: p.model_name, day: dayOf(p.event_time) }, 'prediction without a horizon: ignored');
    return null;
  }
  return { kind: 'prediction', eventTime: p.event_time, model: { name: p.model_name, version: p.model_version, horizonMs: p.horizon_hours * HOUR_MS } };
}

/** An alert's horizon: what the arm's predictions of the same model say, else its plant profile's. */
function horizonFor(model: { name: string; version: string; horizonMs: number }, arm: ArmLabels) {
  return arm.model?.name === model.name ? { ...model, horizonMs: arm.model.horizonMs } : model;
}
