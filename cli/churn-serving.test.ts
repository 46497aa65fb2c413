// Which model `churn score` scores with when no registry serves it, and what it refuses: the
// committed directory when no MLflow is configured or the stack's default does not answer; an error
// when a tracking URI the user set does not answer (a promotion must not be undone silently). With
// a registry (MLFLOW_TRACKING_URI of a test stack) the seeded champion's cached directory is served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../streams/runtime/logger.ts';
import { COMMITTED_CHURN_DIR, churnModelName, describeChurnModel, driftAlertsOf, publishBatchDrift, resolveChurnModel } from './churn-serving.ts';

const log = createLogger({ test: 'churn-serving' }).child({}, { level: 'silent' });
/** A port nothing listens on: connections are refused at once. */
const DEAD = 'http://127.0.0.1:1';

test('the churn model is the committed meta\'s registered name', () => {
  assert.equal(churnModelName(), 'churn-30d-rf');
});

test('no MLFLOW_TRACKING_URI: the committed directory, and the line says why', async () => {
  const r = await resolveChurnModel({}, {}, log);
  assert.deepEqual([r.slot.version, r.slot.dir], [null, COMMITTED_CHURN_DIR]);
  assert.match(describeChurnModel(r), /^churn score: model churn-30d-rf \(committed .*models\/churn\/artifacts\) \(MLFLOW_TRACKING_URI unset\)$/);
});

test('the stack\'s default tracking URI not answering: the committed directory, named as such', async () => {
  const r = await resolveChurnModel({ MLFLOW_TRACKING_URI: DEAD }, {}, log);
  assert.equal(r.slot.dir, COMMITTED_CHURN_DIR);
  assert.match(describeChurnModel(r), /no MLflow answers at the stack's http:\/\/127\.0\.0\.1:1/);
});

test('a tracking URI the user set that does not answer is an error, not a silent fallback', { timeout: 60_000 }, async () => {
  await assert.rejects(resolveChurnModel({ MLFLOW_TRACKING_URI: DEAD }, { MLFLOW_TRACKING_URI: DEAD }, log), /127\.0\.0\.1:1|ECONNREFUSED|fetch failed/);
});

test('a summary without drift (no reference.json) is said so, and nothing is sent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'churn-summary-'));
  try {
    const file = join(dir, 'summary.json');
    writeFileSync(file, JSON.stringify({ score_date: '2026-07-01', drift: null }));
    const lines: string[] = [];
    // No KAFKA_BROKERS: sending anything would throw.
    await publishBatchDrift(file, {}, log, (l) => lines.push(l));
    assert.deepEqual(lines, ['churn score: drift not checked (the model has no reference.json)']);
    writeFileSync(file, JSON.stringify({ drift: { features_judged: 2, alerts: [], report: '/lake/telecom/churn_drift/score_date=2026-07-01/drift.json' } }));
    await publishBatchDrift(file, {}, log, (l) => lines.push(l));
    assert.match(lines[1], /drift of 2 features judged \(.*drift\.json\): no alert$/);
    // --no-publish: the alerts are named, not sent (no Kafka here: a send would fail)
    const alert = { state: 'RAISED', statistic: 'KS', feature: 'calls_30d' };
    writeFileSync(file, JSON.stringify({ drift: { features_judged: 17, alerts: [alert], report: 'r.json' } }));
    await publishBatchDrift(file, null, log, (l) => lines.push(l));
    assert.equal(lines[2], 'churn score: drift of 17 features judged (r.json): RAISED KS calls_30d (not sent: --no-publish)');
    assert.deepEqual(driftAlertsOf({ drift: null }), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
