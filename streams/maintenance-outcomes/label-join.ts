// The join of delayed labels to past alerts, per arm, as pure functions over the arm's stored state
// (no Redis here: outcome-store.ts keeps the state, topology.ts feeds the records). Definitions:
//   - a RAISED alert is a true positive (TP) when a FAILURE of its arm follows within its model's
//     horizon: raised_at < failure_time <= raised_at + horizon;
//   - it is a false positive (FP) once the arm's event-time watermark (the latest scored reading:
//     predictions and alerts) passes raised_at + horizon + grace with no such failure. The grace is
//     how late the plant may report a failure; a failure reported later still turns the FP into a
//     TP while the alert is retained (another horizon + grace), so a tally can improve afterwards;
//   - a FAILURE is caught when a RAISED alert of its arm lies within the horizon before it, and
//     missed (a false negative, FN) otherwise. A RAISED that arrives after its failure (the alerts
//     partition lagging the failure-events one) turns the FN into a catch.
// Every decision is a function of the set of alerts and failures seen, not of their arrival order,
// and re-applying a record already in the state changes nothing: a redelivered batch is a no-op.
// Precision counts alerts and recall counts failures: two alerts before one failure (an alert
// cleared and raised again) are two TPs and one caught failure, as the model card counts them.

export interface ServedModel {
  name: string;
  version: string;
  horizonMs: number;
}

export interface ArmAlert {
  id: string;
  raisedAt: number;
  model: ServedModel;
  outcome: 'pending' | 'TP' | 'FP';
}

export interface ArmFailure {
  time: number;
  /** The version credited with the failure: the catching alert's, else the arm's model when it failed; null if the arm was never scored. */
  model: ServedModel | null;
  caught: boolean;
}

export interface ArmLabels {
  /** Latest event time scored for the arm (predictions, alerts); -1 before the first. */
  watermark: number;
  /** The model of the arm's latest prediction: who gets a failure that no alert caught. */
  model: ServedModel | null;
  alerts: ArmAlert[];
  failures: ArmFailure[];
}

export type LabelEvent =
  | { kind: 'raised'; alertId: string; raisedAt: number; eventTime: number; model: ServedModel }
  | { kind: 'failure'; time: number }
  | { kind: 'prediction'; eventTime: number; model: ServedModel };

/** One outcome in a (model, version, day) tally: set a field (alert or failure) to a value, or delete it (moved to another version). */
export interface OutcomeChange {
  bucket: string;
  field: string;
  value: 'pending' | 'TP' | 'FP' | 'caught' | 'missed' | null;
}

export interface JoinConfig {
  /** How late a failure report may come before an alert with no failure counts as a false positive. */
  graceMs: number;
}

export function emptyArm(): ArmLabels {
  return { watermark: -1, model: null, alerts: [], failures: [] };
}

/** UTC day of an event time: the tallies are per event-time day. */
export function dayOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** `model|version|day`: the key of one tally. */
export function bucketOf(model: ServedModel, t: number): string {
  return `${model.name}|${model.version}|${dayOf(t)}`;
}

export function parseBucket(bucket: string): { model: string; version: string; day: string } {
  const [model, version, day] = bucket.split('|');
  return { model, version, day };
}

const alertField = (a: ArmAlert) => `a:${a.id}`;
const failureField = (arm: string, f: ArmFailure) => `f:${arm}:${f.time}`;
const within = (a: ArmAlert, failureTime: number) => a.raisedAt < failureTime && failureTime <= a.raisedAt + a.model.horizonMs;

/**
 * Applies one arm's events (in the order read) to its state; returns the next state, the tally
 * changes and whether anything worth storing changed. `state` is not modified.
 */
export function applyArmEvents(arm: string, state: ArmLabels, events: LabelEvent[], config: JoinConfig): { state: ArmLabels; changes: OutcomeChange[]; changed: boolean } {
  const s: ArmLabels = { watermark: state.watermark, model: state.model, alerts: state.alerts.map((a) => ({ ...a })), failures: state.failures.map((f) => ({ ...f })) };
  const changes: OutcomeChange[] = [];
  let changed = false;
  const setAlert = (a: ArmAlert, outcome: ArmAlert['outcome'], isNew = false) => {
    if (a.outcome === outcome && !isNew) return;
    a.outcome = outcome;
    changes.push({ bucket: bucketOf(a.model, a.raisedAt), field: alertField(a), value: outcome });
    changed = true;
  };
  const setFailure = (f: ArmFailure, caught: boolean, model: ServedModel | null) => {
    const before = f.model ? bucketOf(f.model, f.time) : null;
    const after = model ? bucketOf(model, f.time) : null;
    if (f.caught === caught && before === after) return;
    if (before && before !== after) changes.push({ bucket: before, field: failureField(arm, f), value: null });
    f.caught = caught;
    f.model = model;
    if (after) changes.push({ bucket: after, field: failureField(arm, f), value: caught ? 'caught' : 'missed' });
    changed = true;
  };
  for (const e of events) {
    if (e.kind === 'prediction') {
      const same = s.model && s.model.name === e.model.name && s.model.version === e.model.version && s.model.horizonMs === e.model.horizonMs;
      if (!same) {
        s.model = e.model;
        changed = true;
      }
      s.watermark = Math.max(s.watermark, e.eventTime);
      // A failure read before any prediction of its arm (the failure-events partition ahead of the
      // predictions one) is charged to the first model seen scoring the arm.
      for (const f of s.failures) if (!f.model) setFailure(f, f.caught, e.model);
    } else if (e.kind === 'raised') {
      s.watermark = Math.max(s.watermark, e.eventTime);
      if (s.alerts.some((a) => a.id === e.alertId)) continue;
      const alert: ArmAlert = { id: e.alertId, raisedAt: e.raisedAt, model: e.model, outcome: 'pending' };
      s.alerts.push(alert);
      const followed = s.failures.filter((f) => within(alert, f.time));
      setAlert(alert, followed.length ? 'TP' : 'pending', true);
      // A failure already seen that this alert announced: caught, and credited to this alert's version.
      for (const f of followed) if (!f.caught) setFailure(f, true, alert.model);
    } else {
      if (s.failures.some((f) => f.time === e.time)) continue;
      const failure: ArmFailure = { time: e.time, model: null, caught: false };
      s.failures.push(failure);
      changed = true; // kept even when never scored (in no tally): a later alert may still catch it
      const announcing = s.alerts.filter((a) => within(a, e.time));
      for (const a of announcing) if (a.outcome !== 'TP') setAlert(a, 'TP');
      // Credited to the latest alert before it, or (missed) to the model that scored the arm.
      const latest = announcing.sort((a, b) => b.raisedAt - a.raisedAt)[0];
      setFailure(failure, announcing.length > 0, latest?.model ?? s.model);
    }
  }
  // Alerts whose horizon and grace have passed with no failure: false positives.
  for (const a of s.alerts) if (a.outcome === 'pending' && s.watermark > a.raisedAt + a.model.horizonMs + config.graceMs) setAlert(a, 'FP');
  // Retention: an alert another horizon + grace after it was judged (a very late report can still
  // correct it), a failure as long as an alert within its horizon can still arrive.
  const keptAlerts = s.alerts.filter((a) => s.watermark <= a.raisedAt + 2 * (a.model.horizonMs + config.graceMs));
  const keptFailures = s.failures.filter((f) => s.watermark <= f.time + (f.model?.horizonMs ?? 0) + config.graceMs);
  if (keptAlerts.length !== s.alerts.length || keptFailures.length !== s.failures.length) changed = true;
  s.alerts = keptAlerts;
  s.failures = keptFailures;
  // The watermark matters only while something waits on it; otherwise it is not worth a write.
  if (state.watermark !== s.watermark && (s.alerts.length || s.failures.length)) changed = true;
  return { state: s, changes, changed };
}

export interface Tally {
  bucket: string;
  truePositives: number;
  falsePositives: number;
  pending: number;
  caught: number;
  missed: number;
}

/** Counts a tally's outcome values (the memory store's twin of outcome-store.lua's count). */
export function tallyOf(bucket: string, values: Iterable<string>): Tally {
  const t: Tally = { bucket, truePositives: 0, falsePositives: 0, pending: 0, caught: 0, missed: 0 };
  for (const v of values) {
    if (v === 'TP') t.truePositives++;
    else if (v === 'FP') t.falsePositives++;
    else if (v === 'pending') t.pending++;
    else if (v === 'caught') t.caught++;
    else if (v === 'missed') t.missed++;
  }
  return t;
}

export function precisionOf(t: Tally): number | null {
  const judged = t.truePositives + t.falsePositives;
  return judged ? t.truePositives / judged : null;
}

export function recallOf(t: Tally): number | null {
  const labels = t.caught + t.missed;
  return labels ? t.caught / labels : null;
}
