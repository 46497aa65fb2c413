import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDatesInText } from '../rules/dates.ts';
import { withRankedDates } from '../analyze.ts';
import { DEFAULT_NER_MODEL_DIR } from './model.ts';
import { dateCandidates, loadDateRanker, rankDates, scoreCandidate, type DateRankerModel } from './date-ranker.ts';

test('findDatesInText gives offsets into the raw text through the clean-up (split suffixes, NBSP, parenthesised days)', () => {
  const text = 'made as of the 1s t  day of June ,  2004\u00a0and (1st) day of January, 2010; Section 2.1.10; 03/04/2020.';
  const found = findDatesInText(text).map((f) => [f.iso, text.slice(f.start, f.end)]);
  assert.deepEqual(found, [
    ['2004-06-01', '1s t  day of June ,  2004'],
    ['2010-01-01', '(1st) day of January, 2010'],
    ['2020-03-04', '03/04/2020'],
  ]);
});

test('candidates carry their place, neighbouring words and cues', () => {
  const text = 'This Agreement is dated as of March 3, 2019. It expires on December 31, 2021, unless renewed. March 3, 2019.';
  const [first, second, third] = dateCandidates(text);
  assert.equal(first.text, 'March 3, 2019');
  assert.ok(first.features.includes('b2:as_of') && first.features.includes('near:dated') && first.features.includes('first_of_value'));
  assert.ok(first.features.includes('rank:0') && first.features.includes('order:earliest') && first.features.includes('count:2'));
  assert.ok(second.features.includes('b1:on') && second.features.includes('near:expire') && second.features.includes('order:latest'));
  assert.ok(third.features.includes('repeat'));
});

test('rankDates takes each label\'s best candidate, and nothing below the threshold', () => {
  const model: DateRankerModel = {
    model_version: 't',
    labels: {
      AGREEMENT_DATE: { bias: -2, weights: { 'near:dated': 3, 'rank:0': 1 }, threshold: 0.5 },
      EFFECTIVE_DATE: { bias: -5, weights: {}, threshold: 0.5 },
    },
  };
  const text = 'Dated March 3, 2019. Payment by April 1, 2019.';
  const entities = rankDates(text, model);
  assert.equal(entities.length, 1);
  assert.equal(entities[0].label, 'AGREEMENT_DATE');
  assert.equal(entities[0].text, 'March 3, 2019');
  assert.ok(Math.abs(entities[0].confidence - scoreCandidate(model.labels.AGREEMENT_DATE, dateCandidates(text)[0].features)) < 1e-12);
  assert.ok(Math.abs(entities[0].confidence - 1 / (1 + Math.exp(-2))) < 1e-12);
});

test('the ranker replaces the tagger\'s dates of its labels; a blank template survives only where it found none', () => {
  const e = (label: string, text: string, start: number) => ({ label, text, start, end: start + text.length, confidence: 0.9 });
  const tagged = [e('PARTY', 'Acme', 0), e('AGREEMENT_DATE', 'May 1, 2019', 10), e('EFFECTIVE_DATE', '____ day of ______, 2013', 40), e('EXPIRATION_DATE', 'June 1, 2020', 90)];
  const ranked = [e('AGREEMENT_DATE', 'May 2, 2019', 20)];
  const out = withRankedDates(tagged, ranked, ['AGREEMENT_DATE', 'EFFECTIVE_DATE']);
  assert.deepEqual(out.map((x) => `${x.label}:${x.text}`), ['PARTY:Acme', 'AGREEMENT_DATE:May 2, 2019', 'EFFECTIVE_DATE:____ day of ______, 2013', 'EXPIRATION_DATE:June 1, 2020']);
  const withEffective = withRankedDates(tagged, [...ranked, e('EFFECTIVE_DATE', 'May 2, 2019', 20)], ['AGREEMENT_DATE', 'EFFECTIVE_DATE']);
  assert.ok(!withEffective.some((x) => x.text.startsWith('____')));
});

test('the committed ranker picks a preamble\'s date over later dates, and refuses a malformed file', () => {
  const model = loadDateRanker(DEFAULT_NER_MODEL_DIR);
  assert.ok(model, 'models/documents/artifacts/date-ranker.json is committed');
  const text = 'DISTRIBUTION AGREEMENT\n\nThis Distribution Agreement (the "Agreement") is made and entered into as of March 3, 2019 '
    + 'by and between Acme Corp. and Widget LLC.\n\n1. Term. This Agreement shall expire on December 31, 2021.\n\n'
    + 'Invoices dated after January 15, 2020 are payable within 30 days.';
  const agreement = rankDates(text, model).find((x) => x.label === 'AGREEMENT_DATE');
  assert.equal(agreement?.text, 'March 3, 2019');
  const dir = mkdtempSync(join(tmpdir(), 'date-ranker-'));
  writeFileSync(join(dir, 'date-ranker.json'), JSON.stringify({ model_version: 'x', labels: { AGREEMENT_DATE: { bias: 0, weights: {} } } }));
  assert.throws(() => loadDateRanker(dir), /AGREEMENT_DATE/);
  assert.equal(loadDateRanker(tmpdir() + '/no-such-dir-for-ranker'), null);
});
