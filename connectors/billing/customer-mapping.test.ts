import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { CustomerMappingError, checkHeader, loadCustomerMapping, mappedColumns, parseCustomerMapping } from './customer-mapping.ts';

const MAPPINGS = join(REPO_ROOT, 'connectors', 'mappings', 'customers');
const bigml = () => JSON.parse(readFileSync(join(MAPPINGS, 'bigml-orange.json'), 'utf8')) as Record<string, unknown>;

function problemsOf(raw: unknown): string[] {
  try {
    parseCustomerMapping(raw, 'test.json');
  } catch (err) {
    assert.ok(err instanceof CustomerMappingError, String(err));
    return err.problems;
  }
  assert.fail('the mapping was accepted');
}

test('every shipped mapping is valid', () => {
  const files = readdirSync(MAPPINGS).filter((f) => f.endsWith('.json'));
  assert.deepEqual(files.sort(), ['bigml-orange.json', 'ibm-telco.json']);
  for (const f of files) assert.equal(loadCustomerMapping(join(MAPPINGS, f)).name, f.replace(/\.json$/, ''));
});

test('shape problems are all named at once: unknown fields, wrong enums, missing roles', () => {
  const raw = bigml();
  raw.tenure = { column: 'Account length', unit: 'weeks' };
  raw.colour = 'blue';
  delete raw.churn;
  const problems = problemsOf(raw);
  assert.ok(problems.some((p) => p === 'tenure.unit must be one of "months", "days"'), problems.join('\n'));
  assert.ok(problems.some((p) => p === '(mapping): unknown field "colour"'), problems.join('\n'));
  assert.ok(problems.some((p) => /must have required property 'churn'/.test(p)), problems.join('\n'));
});

test('semantic problems are all named at once', () => {
  const raw = bigml();
  raw.cutoff = '2026-02-30';
  raw.customer_id = 'everyone';
  raw.charges = { monthly: 'Total day charge', columns_summed: ['Total eve charge'] };
  raw.churn = { column: 'Churn', true: ['True', '1'], false: ['False', '1'] };
  raw.plan = { template: '{International plan}', values: { 'Voice mail plan': { Yes: 'vm' } } };
  assert.deepEqual(problemsOf(raw), [
    'cutoff "2026-02-30" is not a date',
    'customer_id "everyone" names no column: every customer would get the same id (use {_row} when the table has none)',
    'plan.values has "Voice mail plan", which plan.template does not use',
    'charges needs exactly one of monthly and columns_summed',
    'churn: "1" is listed as both true and false',
  ]);
});

test('the header check names every mapped column the table lacks', () => {
  const mapping = loadCustomerMapping(join(MAPPINGS, 'bigml-orange.json'));
  assert.ok(mappedColumns(mapping).includes('Total intl calls'));
  assert.ok(!mappedColumns(mapping).includes('_row'));
  const header = mappedColumns(mapping).filter((c) => c !== 'Churn' && c !== 'State');
  assert.throws(() => checkHeader(mapping, header, 't.csv'), (err: Error) => err instanceof CustomerMappingError && /t\.csv has no column "State", "Churn"/.test(err.message));
  checkHeader(mapping, [...mappedColumns(mapping), 'Number vmail messages'], 't.csv');
});
