import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBlankDates, findDatesInText } from '../rules/dates.ts';
import { withRankedDates } from '../analyze.ts';
import { DEFAULT_NER_MODEL_DIR } from './model.ts';
import { dateCandidates, effectiveDefinition, effectiveSentences, effectiveUsage, candidateProbabilities, definedTerm, loadDateRanker, rankDates, textValue, type DateRankerModel } from './date-ranker.ts';

test('findDatesInText gives offsets into the raw text through the clean-up (split suffixes, NBSP, parenthesised days)', () => {
  const text = 'made as of the 1s t  day of June ,  2004\u00a0and (1st) day of January, 2010; Section 2.1.10; 03/04/2020.';
  const found = findDatesInText(text).map((f) => [f.iso, text.slice(f.start, f.end)]);
  assert.deepEqual(found, [
    ['2004-06-01', '1s t  day of June ,  2004'],
    ['2010-01-01', '(1st) day of January, 2010'],
    ['2020-03-04', '03/04/2020'],
  ]);
});

test('findDatesInText reads a day glued to the word before it ("as of1 August 2019"), and only before a month', () => {
  const text = 'is made and effective as of1 August 2019, under Section1 2 March 2010 and Form10 12 months later.';
  assert.deepEqual(findDatesInText(text).map((f) => [f.iso, text.slice(f.start, f.end)]), [
    ['2019-08-01', '1 August 2019'],
    ['2010-03-02', '2 March 2010'],
  ]);
});

test('findBlankDates finds the dates a signed form left blank, with and without a leading "this"; a calendar date is none', () => {
  const cases: [string, string[]][] = [
    ['made as of ____________, 1996 by and', ['____________, 1996']],
    ['dated November ___, 2006, between', ['November ___, 2006']],
    ['entered into this  day of , 2012 by', ['this  day of , 2012', 'day of , 2012']],
    ['made on [·] day of [·], 2019 by', ['[·] day of [·], 2019']],
    ['on this 14 day of SEPTEMBER, 200_ by', ['this 14 day of SEPTEMBER, 200_', '14 day of SEPTEMBER, 200_']],
    ['as of the 1st day of June, 2004.', []],
    ['the 30th day of April 2020', []],
  ];
  for (const [text, blanks] of cases) assert.deepEqual(findBlankDates(text).map((b) => b.text), blanks, text);
});

test('a blank date is a candidate valued by its text; how the contract defines its effective date is a feature of every candidate', () => {
  const text = 'This Agreement is made this ____ day of ________, 2013 by and between A and B. "Effective Date" means the date first written above. Notices by May 1, 2013.';
  const candidates = dateCandidates(text);
  assert.deepEqual(candidates.map((c) => c.iso), ['text:this ____ day of ________, 2013', 'text:____ day of ________, 2013', '2013-05-01']);
  assert.equal(textValue('  "This  ____ day of ___, 2013," '), 'text:this ____ day of ___, 2013');
  assert.ok(candidates[0].features.includes('prec:blank') && candidates[0].features.includes('blank:this') && candidates[0].features.includes('order:blank'));
  assert.ok(candidates[2].features.includes('order:earliest'), 'blanks take no part in the calendar order');
  for (const c of candidates) assert.ok(c.features.includes('eff_def:reference'));
  assert.ok(candidates[0].features.includes('eff_def:reference&rank:0') && candidates[2].features.includes('eff_def:reference&rank:2'));
  assert.equal(effectiveDefinition('"Effective Date" means the Closing Date as set forth in the Purchase Agreement.'), 'event');
  assert.equal(effectiveDefinition('shall commence on the date hereof (the "Effective Date") and'), 'reference');
  assert.equal(effectiveDefinition('effective immediately'), 'other');
  assert.equal(effectiveDefinition('no such word'), 'none');
  assert.equal(effectiveDefinition('This Agreement shall become effective upon the date first written above'), 'reference');
});

test('where a contract that defines no effective date uses the word is a feature of its candidates; a defined one has none', () => {
  const later = 'x '.repeat(1100);
  assert.equal(effectiveUsage('This Agreement is made effective as of May 1, 2020.'), 'preamble');
  assert.equal(effectiveUsage(`${later} on May 1, 2020 (the "Effective Date")`), 'defined');
  assert.equal(effectiveUsage(`${later} shall become effective upon signature`), 'phrase');
  assert.equal(effectiveUsage(`${later} post-effective amendments`), 'incidental');
  const preamble = dateCandidates('This Agreement is made effective as of May 1, 2020. Notices by June 1, 2020.');
  assert.ok(preamble[0].features.includes('eff_use:preamble') && preamble[1].features.includes('eff_use:preamble&rank:1'));
  const byReference = dateCandidates('Dated May 1, 2020. "Effective Date" means the date first written above.');
  assert.ok(byReference.every((c) => !c.features.some((f) => f.startsWith('eff_use:'))), 'only the "other" definitions are split');
});

test('a sentence that makes the contract effective without a date is a candidate; one with a date or pointing at the contract\'s own date is not', () => {
  const text = 'Recitals. This Agreement shall become effective upon its approval by the examination and approval authority. '
    + 'This Agreement shall become effective on January 1, 2010. The licence shall be effective as of the date first written above. '
    + '"Effective Date" means the date of the last signature below.';
  const sentences = effectiveSentences(text).map((s) => text.slice(s.start, s.end));
  assert.deepEqual(sentences, [
    'This Agreement shall become effective upon its approval by the examination and approval authority.',
    '"Effective Date" means the date of the last signature below.',
  ]);
  const candidate = dateCandidates(text).find((c) => c.text.startsWith('"Effective Date" means'))!;
  assert.equal(candidate.iso, 'text:effective date" means the date of the last signature below');
  for (const f of ['prec:sentence', 'order:sentence', 'sent:means', 'sent:last']) assert.ok(candidate.features.includes(f), f);
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

test('rankDates takes each label\'s best candidate, and nothing below the threshold (a .5 sigmoid model)', () => {
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
  assert.ok(Math.abs(entities[0].confidence - 1 / (1 + Math.exp(-2))) < 1e-12);
});

test('a softmax label shares one contract\'s probability among its candidates and "none"', () => {
  const label = { scoring: 'softmax' as const, none: 1, weights: { 'near:dated': 3, 'rank:0': 1 }, threshold: 0.5 };
  const text = 'Dated March 3, 2019. Payment by April 1, 2019.';
  const candidates = dateCandidates(text);
  const z = candidates.map((c) => (c.features.includes('near:dated') ? 3 : 0) + (c.features.includes('rank:0') ? 1 : 0));
  const total = Math.exp(1) + z.reduce((s, x) => s + Math.exp(x), 0);
  const probabilities = candidateProbabilities(label, candidates);
  probabilities.forEach((p, i) => assert.ok(Math.abs(p - Math.exp(z[i]) / total) < 1e-12));
  assert.ok(probabilities.reduce((s, p) => s + p, 0) < 1, '"none" keeps its share');
  const [entity] = rankDates(text, { model_version: 't', labels: { AGREEMENT_DATE: label } }, candidates);
  assert.equal(entity.text, 'March 3, 2019');
  assert.equal(entity.confidence, Math.max(...probabilities));
  // The same weights with "none" far ahead: no candidate reaches the threshold.
  assert.deepEqual(rankDates(text, { model_version: 't', labels: { AGREEMENT_DATE: { ...label, none: 10 } } }, candidates), []);
  // More candidates than a call takes arguments (a 2,000-page contract): still one share each.
  const many = candidateProbabilities(label, Array.from({ length: 200_000 }, () => ({ features: ['near:dated'] })));
  assert.equal(many.length, 200_000);
  assert.ok(Math.abs(many[0] - Math.exp(3) / (Math.exp(1) + 200_000 * Math.exp(3))) < 1e-15);
});

test('definedTerm names the term a date defines, before or after it', () => {
  const at = (text: string, date: string) => definedTerm(text, text.indexOf(date), text.indexOf(date) + date.length);
  assert.equal(at('is made effective as of November 1, 2019 (the "Effective Date"), by and between', 'November 1, 2019'), 'effective_date');
  assert.equal(at('between the Parties (Effective Date: February 5, 2020).', 'February 5, 2020'), 'effective_date');
  assert.equal(at('"Effective Date" means October 31, 2019.', 'October 31, 2019'), 'effective_date');
  assert.equal(at('is made on October 15, 2009 (the "Agreement Date") and', 'October 15, 2009'), 'agreement_date');
  assert.equal(at('dated as of August 10, 2007 (the "Closing Date"), PPI', 'August 10, 2007'), 'other_date');
  assert.equal(at('dated as of August 10, 2007 (the "Original Agreement"), PPI', 'August 10, 2007'), null);
  assert.equal(at('Payment is due by April 1, 2019 at the latest.', 'April 1, 2019'), null);
  const [candidate] = dateCandidates('This Agreement is made effective as of November 1, 2019 (the "Effective Date").');
  assert.ok(candidate.features.includes('defines:effective_date'));
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
  writeFileSync(join(dir, 'date-ranker.json'), JSON.stringify({ model_version: 'x', labels: { AGREEMENT_DATE: { scoring: 'softmax', weights: {}, threshold: 0.5 } } }));
  assert.throws(() => loadDateRanker(dir), /AGREEMENT_DATE/);
  assert.equal(loadDateRanker(tmpdir() + '/no-such-dir-for-ranker'), null);
});
