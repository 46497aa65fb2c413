// model-meta.json checks: the committed meta passes; a broken decoding table is named, and the
// optional ones (extend_threshold, max_per_document, defined_within) may be absent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNerMeta, nerMetaProblems } from './model.ts';

const meta = () => structuredClone(loadNerMeta()) as unknown as Record<string, unknown>;

test('the committed meta has no problems, with or without the optional decoding tables', () => {
  assert.deepEqual(nerMetaProblems(meta()), []);
  const bare = meta();
  for (const key of ['extend_threshold', 'max_per_document', 'defined_within']) delete bare[key];
  assert.deepEqual(nerMetaProblems(bare), []);
});

test('every broken decoding table is named', () => {
  const m = meta();
  (m.extend_threshold as Record<string, unknown>).PARTY = 1.5;
  delete (m.review_threshold as Record<string, unknown>).AMOUNT;
  m.max_per_document = { GOVERNING_LAW: 0 };
  m.defined_within = { NOT_A_LABEL: 100 };
  assert.deepEqual(nerMetaProblems(m), [
    'extend_threshold.PARTY must be a number in [0, 1]',
    'review_threshold.AMOUNT must be a number in [0, 1]',
    'max_per_document.GOVERNING_LAW must be a positive integer for a label of the model',
    'defined_within.NOT_A_LABEL must be a positive integer for a label of the model',
  ]);
});
