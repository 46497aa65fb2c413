import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { cutoffOf, loadCustomerMapping } from '../connectors/billing/customer-mapping.ts';
import { readCustomerTable } from '../connectors/billing/customer-rows.ts';
import { customerTableEvents } from '../connectors/billing/customer-table.ts';
import { BIGML_LAYOUT_SAMPLE } from '../connectors/billing/make-bigml-layout-sample.ts';
import { run } from './billing.ts';

test('billing produce --source table writes the mapped table\'s events', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'billing-cli-')), 'events.jsonl');
  const mappingFile = join(REPO_ROOT, 'connectors', 'mappings', 'customers', 'bigml-orange.json');
  const code = await run(['produce', '--source', 'table', '--mapping', mappingFile, '--csv', BIGML_LAYOUT_SAMPLE, '--limit', '20', '--out', out]);
  assert.equal(code, 0);
  const mapping = loadCustomerMapping(mappingFile);
  const expected = [...customerTableEvents(readCustomerTable(BIGML_LAYOUT_SAMPLE, mapping, 20).customers, mapping, cutoffOf(mapping))];
  const written = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
  assert.equal(written.length, expected.length);
  assert.deepEqual(written, expected);
  assert.equal(new Set(expected.map((e) => e.user_id)).size, 20);
});

test('billing produce --source table without a mapping is a usage error', async () => {
  assert.equal(await run(['produce', '--source', 'table', '--csv', BIGML_LAYOUT_SAMPLE, '--out', '/dev/null']), 2);
});
