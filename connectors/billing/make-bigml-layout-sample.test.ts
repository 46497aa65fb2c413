import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { loadCustomerMapping } from './customer-mapping.ts';
import { readCustomerTable } from './customer-rows.ts';
import { BIGML_LAYOUT_SAMPLE, SAMPLE_ROWS, SAMPLE_SEED, bigmlLayoutCsv } from './make-bigml-layout-sample.ts';

test('the committed BigML-layout sample is what its seeded generator writes', () => {
  assert.equal(readFileSync(BIGML_LAYOUT_SAMPLE, 'utf8'), bigmlLayoutCsv(SAMPLE_ROWS, SAMPLE_SEED));
});

test('the sample reads through the bigml-orange mapping, and churn follows service calls, the international plan and day minutes', () => {
  const mapping = loadCustomerMapping(join(REPO_ROOT, 'connectors', 'mappings', 'customers', 'bigml-orange.json'));
  const { customers, rejects } = readCustomerTable(BIGML_LAYOUT_SAMPLE, mapping);
  assert.deepEqual(rejects, []);
  assert.equal(customers.length, SAMPLE_ROWS);
  const rate = (pick: (c: (typeof customers)[number]) => boolean) => {
    const group = customers.filter(pick);
    return group.filter((c) => c.churn).length / group.length;
  };
  assert.ok(rate((c) => c.complaints >= 4) > 2 * rate((c) => c.complaints < 4));
  assert.ok(rate((c) => c.plan!.startsWith('intl-yes')) > 2 * rate((c) => c.plan!.startsWith('intl-no')));
  const dayMinutes = (c: (typeof customers)[number]) => c.totals[0].amount!;
  assert.ok(rate((c) => dayMinutes(c) > 250) > 2 * rate((c) => dayMinutes(c) <= 250));
  const churners = customers.filter((c) => c.churn).length / customers.length;
  assert.ok(churners > 0.08 && churners < 0.2, `churn rate ${churners}`);
});
