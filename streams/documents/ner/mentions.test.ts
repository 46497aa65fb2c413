import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDefined, mentionKey, mergeMentions } from './mentions.ts';

const e = (label: string, start: number, text: string, confidence: number) => ({ label, start, end: start + text.length, text, confidence });

test('repeated mentions of a name merge into the first, with the best confidence', () => {
  const merged = mergeMentions([
    e('PARTY', 400, 'Company', 0.97),
    e('PARTY', 10, 'Acme Corp., Inc.', 0.8),
    e('PARTY', 60, '"Company"', 0.6),
    e('PARTY', 900, 'COMPANY', 0.5),
    e('AGREEMENT_DATE', 30, 'June 1, 2020', 0.9),
    e('EFFECTIVE_DATE', 30, 'June 1, 2020', 0.7),
  ]);
  assert.deepEqual(merged.map((m) => [m.label, m.start, m.text, m.confidence]), [
    ['PARTY', 10, 'Acme Corp., Inc.', 0.8],
    ['AGREEMENT_DATE', 30, 'June 1, 2020', 0.9],
    ['EFFECTIVE_DATE', 30, 'June 1, 2020', 0.7],
    ['PARTY', 60, '"Company"', 0.97],
  ]);
});

test('a mention that is only punctuation is dropped; the input is not changed', () => {
  const input = [e('PARTY', 0, '"', 0.9), e('PARTY', 5, 'Beta LLC', 0.4), e('PARTY', 20, 'Beta LLC', 0.9)];
  assert.deepEqual(mergeMentions(input).map((m) => m.text), ['Beta LLC']);
  assert.equal(input[1].confidence, 0.4);
  assert.equal(mentionKey('PARTY', '  “Beta   llc.” '), mentionKey('PARTY', 'beta llc'));
});

test('a capped label keeps its most confident entities, the earlier on a tie', () => {
  const merged = mergeMentions([
    e('GOVERNING_LAW', 100, 'governed by the laws of Texas', 0.6),
    e('GOVERNING_LAW', 500, 'the laws of the State of New York', 0.9),
    e('GOVERNING_LAW', 900, 'Delaware law', 0.9),
    e('PARTY', 0, 'Acme', 0.5),
    e('PARTY', 50, 'Beta', 0.4),
  ], { maxPerDocument: { GOVERNING_LAW: 1, PARTY: 2 } });
  assert.deepEqual(merged.map((m) => m.text), ['Acme', 'Beta', 'the laws of the State of New York']);
});

test('definedWithin keeps names of the preamble or quoted ones, and drops the rest', () => {
  const text = 'This Agreement is between Acme Corp. and Beta (the "Licensee"). ' + 'x '.repeat(100)
    + 'KPMG audits Licensee; see 15 U.S.C. (the "Act"); Acme pays. "Gamma (Europe)" too.';
  const at = (t: string, from = 0) => text.indexOf(t, from);
  const merged = mergeMentions([
    e('PARTY', at('Acme'), 'Acme Corp.', 0.9),
    e('PARTY', at('Licensee', 100), 'Licensee', 0.9),
    e('PARTY', at('KPMG'), 'KPMG', 0.99),
    e('PARTY', at('Gamma'), 'Gamma (Europe)', 0.9),
    e('AMOUNT', at('KPMG'), 'KPMG', 0.9),
  ], { text, definedWithin: { PARTY: 60 } });
  assert.deepEqual(merged.map((m) => [m.label, m.text]), [['PARTY', 'Acme Corp.'], ['AMOUNT', 'KPMG'], ['PARTY', 'Licensee'], ['PARTY', 'Gamma (Europe)']]);
  assert.equal(isDefined(text, 'Act', 1000, 10), true);
  assert.equal(isDefined(text, 'U.S', 1000, 10), false);
  assert.throws(() => mergeMentions([], { definedWithin: { PARTY: 5 } }), /needs the text/);
});
