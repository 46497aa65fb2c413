// Acceptance (issue #11, part 3): a churn table in the BigML/Orange layout goes table -> lake ->
// Spark train (local[2], tiny grid) -> scores by configuration alone (the bigml-orange mapping), and
// every row is scored or reported: the shipped 600-row fixture plus a customer who joined on the
// cut-off with no usage (scored: its ACCOUNT_OPENED gives it a history) and a malformed row
// (rejected with its reason). Prints the held-out AUC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { BIGML_LAYOUT_SAMPLE, SAMPLE_ROWS } from '../../connectors/billing/make-bigml-layout-sample.ts';
import { datasetFiles, readParquetFile } from '../../connectors/parquet-sink/lake-reader.ts';
import { runSparkJob } from '../../cli/churn.ts';
import { describeResult, trainOnTable } from '../../cli/churn-table.ts';
import { quietLog } from './helpers.ts';

const NEW_CUSTOMER = 'CA,0,415,No,No,0,0,0,0,0,0,0,0,0,0,0,0,0,0,False';
const MALFORMED = 'TX,12,510,No,No,0,lots,80,20,100,90,8,150,95,6,9,3,2.4,1,maybe';

test('a BigML-layout table is trained and scored by its mapping alone; every row scored or reported', { timeout: 480_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'churn-table-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const table = join(work, 'table.csv');
  writeFileSync(table, `${readFileSync(BIGML_LAYOUT_SAMPLE, 'utf8')}${NEW_CUSTOMER}\n${MALFORMED}\n`);
  const result = await trainOnTable({
    table, mapping: join(REPO_ROOT, 'connectors', 'mappings', 'customers', 'bigml-orange.json'), workDir: work, grid: 'tiny', folds: 2,
    master: 'local[2]', log: quietLog, runJob: runSparkJob,
  });
  for (const line of describeResult(result)) t.diagnostic(line);
  assert.equal(result.failed, undefined, describeResult(result).join('\n'));
  assert.equal(result.rows, SAMPLE_ROWS + 2);

  // The malformed row is reported with what is wrong with it.
  const rejects = readFileSync(join(work, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number; customer_id: string; reason: string });
  assert.deepEqual(rejects.map((r) => [r.row, r.customer_id]), [[SAMPLE_ROWS + 2, `TX510-${SAMPLE_ROWS + 2}`]]);
  assert.match(rejects[0].reason, /Total day minutes "lots" is not an amount/);
  assert.match(rejects[0].reason, /Churn "maybe" is neither a churn value/);

  // Everyone else is scored, the customer who joined on the cut-off with no usage included.
  assert.equal(result.scored, SAMPLE_ROWS + 1);
  assert.equal(result.scored! + result.unscored! + result.rejected, result.rows);
  const predictions = datasetFiles(join(work, 'lake', 'telecom', 'churn_predictions'))
    .filter((f) => f.partition === `score_date=${result.cutoff}`)
    .flatMap((f) => readParquetFile(f.path).toArray().map((r) => ({ user: String(r.user_id), p: Number(r.churn_probability) })));
  assert.equal(predictions.length, SAMPLE_ROWS + 1);
  const fresh = predictions.find((x) => x.user === `CA415-${SAMPLE_ROWS + 1}`);
  assert.ok(fresh && fresh.p >= 0 && fresh.p <= 1, 'the tenure-0 customer with no usage has a score');

  // Held-out AUC of the model trained on the table: the fixture's churn follows service calls, the
  // international plan and day minutes, and the features see them (complaints, plan, call minutes).
  assert.ok(result.heldout, 'held-out metrics');
  assert.ok(result.heldout.positives > 0 && result.heldout.users > 50, JSON.stringify(result.heldout));
  assert.ok(result.heldout.areaUnderROC > 0.6, `held-out AUC-ROC ${result.heldout.areaUnderROC}`);
});
