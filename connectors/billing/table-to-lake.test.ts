import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { datasetFiles, readParquetFile } from '../parquet-sink/lake-reader.ts';
import { loadCustomerMapping } from './customer-mapping.ts';
import { BIGML_COLUMNS } from './make-bigml-layout-sample.ts';
import { tableToLake } from './table-to-lake.ts';

test('every row ends in the lake or in the rejects file with its reason (unreadable, or refused by the lake rules)', async () => {
  const work = mkdtempSync(join(tmpdir(), 'table-lake-'));
  const table = join(work, 'table.csv');
  writeFileSync(table, [
    BIGML_COLUMNS.join(','),
    'KS,128,415,No,Yes,25,265.1,110,45.07,197.4,99,16.78,244.7,91,11.01,10,3,2.7,1,False',
    'NV,9999,408,No,No,0,100,50,17,100,50,8.5,100,50,4.5,10,3,2.7,0,True', // joined in 1999: before the lake's range
    'OH,30,510,No,No,0,,50,17,100,50,8.5,100,50,4.5,10,3,2.7,0,True',
  ].join('\n'));
  const mapping = loadCustomerMapping(join(REPO_ROOT, 'connectors', 'mappings', 'customers', 'bigml-orange.json'));
  const lakeDir = join(work, 'lake');
  const summary = await tableToLake({ table, mapping, lakeDir, rejectsFile: join(work, 'rejects.jsonl'), log: createLogger({ test: true }).child({}, { level: 'warn' }) });
  assert.deepEqual({ rows: summary.rows, customers: summary.customers, rejected: summary.rejected, cutoff: summary.cutoff }, { rows: 3, customers: 1, rejected: 2, cutoff: '2026-06-30' });
  const rejects = readFileSync(join(work, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number; customer_id: string; reason: string });
  assert.deepEqual(rejects.map((r) => [r.row, r.customer_id]), [[2, 'NV408-2'], [3, 'OH510-3']]);
  assert.match(rejects[0].reason, /its events break a lake rule: event_time .* outside the lake's accepted range/);
  assert.match(rejects[1].reason, /Total day minutes "" is not an amount/);
  const users = new Set(datasetFiles(join(lakeDir, 'telecom', 'billing_events')).flatMap((f) => readParquetFile(f.path).toArray().map((r) => String(r.user_id))));
  assert.deepEqual([...users], ['KS415-1']);
  assert.equal(datasetFiles(join(lakeDir, 'telecom', 'billing_events')).reduce((n, f) => n + readParquetFile(f.path).numRows, 0), summary.events);
});
