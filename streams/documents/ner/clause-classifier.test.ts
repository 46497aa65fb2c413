// The clause-sentence classifier: sentences cut where clause-bounds.ts says one starts, the shipped
// export's probabilities equal to what Python computes from the same numbers, the contract's answer
// per label, and a loader that refuses a broken export with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CLAUSE_CLASSIFIER_FILE, ClauseClassifierError, MAX_SENTENCE_CHARS, classifyClauses, loadClauseClassifier, sentenceProbabilities,
  sentenceSpans, withClassifiedClauses,
} from './clause-classifier.ts';
import { collapsed, locateClause } from './clause-classifier-data.ts';

const ARTIFACTS = new URL('../../../models/documents/artifacts/', import.meta.url).pathname;
const fixture = JSON.parse(readFileSync(new URL('../fixtures/clause-classifier-fixture.json', import.meta.url), 'utf8')) as
  { model_version: string; labels: string[]; cases: { text: string; probabilities: number[] }[] };

const TERMINATE = 'Either party may terminate this Agreement for any reason upon thirty (30) days prior written notice to the other party.';

test('sentences: split after a full stop before a capital and at paragraph breaks, not after an abbreviation; trimmed; long ones cut at a space', () => {
  const text = 'Acme Inc. agrees to sell.  The Buyer pays.\n\nRecitals\n\nThis Agreement starts today. ';
  const spans = sentenceSpans(text).map((s) => text.slice(s.start, s.end));
  assert.deepEqual(spans, ['Acme Inc. agrees to sell.', 'The Buyer pays.', 'Recitals', 'This Agreement starts today.']);
  const long = `${'word '.repeat(700)}end.`;
  const cut = sentenceSpans(long);
  assert.ok(cut.length >= 3 && cut.every((s) => s.end - s.start <= MAX_SENTENCE_CHARS), 'no piece is longer than the cap');
  assert.equal(cut.map((s) => long.slice(s.start, s.end)).join(' '), long.trim(), 'the pieces cover the text, cut at spaces');
  assert.deepEqual(sentenceSpans('   \n\n '), []);
});

test('the shipped classifier gives the probabilities Python computed from its exported numbers', () => {
  const model = loadClauseClassifier(ARTIFACTS);
  assert.ok(model, 'the artifacts folder holds a clause classifier');
  assert.equal(model.modelVersion, fixture.model_version, 'the fixture was written with this export');
  assert.deepEqual(model.labels, fixture.labels);
  for (const c of fixture.cases) {
    const got = sentenceProbabilities(model, c.text, [{ start: 0, end: c.text.length }]).map((row) => row[0]);
    got.forEach((p, k) => assert.ok(Math.abs(p - c.probabilities[k]) < 1e-6, `${JSON.stringify(c.text.slice(0, 40))} ${model.labels[k]}: ${p} vs Python ${c.probabilities[k]}`));
  }
});

test('a contract gets the termination-for-convenience sentence as its answer, with its span; one without such a clause gets none', () => {
  const model = loadClauseClassifier(ARTIFACTS)!;
  const contract = `SUPPLY AGREEMENT\n\nThis Agreement is made between Acme Corp. and Beta LLC. The Supplier shall deliver the Products monthly. ${TERMINATE} This Agreement shall be governed by the laws of the State of New York.`;
  const found = classifyClauses(contract, model).filter((e) => e.label === 'TERMINATION_FOR_CONVENIENCE');
  assert.equal(found.length, 1);
  assert.equal(found[0].text, TERMINATE);
  assert.equal(contract.slice(found[0].start, found[0].end), TERMINATE);
  const k = model.labels.indexOf('TERMINATION_FOR_CONVENIENCE');
  assert.ok(found[0].confidence >= model.thresholds[k] && found[0].confidence <= 1);
  const plain = 'This Agreement is made between Acme Corp. and Beta LLC. The Supplier shall deliver the Products monthly. This Agreement shall be governed by the laws of the State of New York.';
  assert.deepEqual(classifyClauses(plain, model).filter((e) => e.label === 'TERMINATION_FOR_CONVENIENCE'), []);
  assert.deepEqual(classifyClauses('', model), [], 'an empty text has no sentence to answer with');
});

test('the classifier replaces the tagger\'s entities of its labels only', () => {
  const tagged = [
    { label: 'TERMINATION_FOR_CONVENIENCE', start: 5, end: 9, text: 'x', confidence: 0.9 },
    { label: 'GOVERNING_LAW', start: 20, end: 30, text: 'y', confidence: 0.8 },
  ];
  const classified = [{ label: 'TERMINATION_FOR_CONVENIENCE', start: 0, end: 4, text: 'z', confidence: 0.97 }];
  assert.deepEqual(withClassifiedClauses(tagged, classified, ['TERMINATION_FOR_CONVENIENCE', 'POST_TERMINATION_SERVICES']), [classified[0], tagged[1]]);
  assert.deepEqual(withClassifiedClauses(tagged, [], ['TERMINATION_FOR_CONVENIENCE']), [tagged[1]], 'no answer from the classifier: none of that label stays');
});

test('loading: a folder without the classifier gives null; a broken export is refused with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clause-classifier-'));
  assert.equal(loadClauseClassifier(dir), null);
  const good = JSON.parse(readFileSync(join(ARTIFACTS, CLAUSE_CLASSIFIER_FILE), 'utf8'));
  const broken: [string, (x: Record<string, unknown>) => void, RegExp][] = [
    ['format', (x) => { x.format = 'other/1'; }, /format is "other\/1"/],
    ['thresholds', (x) => { x.threshold = [0.5]; }, /threshold needs one probability per label/],
    ['threshold range', (x) => { x.review_threshold = [2, 0.5]; }, /review_threshold needs one probability per label/],
    ['coef rows', (x) => { x.intercept = [0]; }, /intercepts and coef rows disagree/],
    ['preprocessing', (x) => { (x.preprocessing as Record<string, unknown>).norm = 'l1'; }, /unsupported preprocessing/],
  ];
  for (const [what, breakIt, reason] of broken) {
    const copy = structuredClone(good);
    breakIt(copy);
    writeFileSync(join(dir, CLAUSE_CLASSIFIER_FILE), JSON.stringify(copy));
    assert.throws(() => loadClauseClassifier(dir), (err: Error) => err instanceof ClauseClassifierError && reason.test(err.message), what);
  }
  writeFileSync(join(dir, CLAUSE_CLASSIFIER_FILE), '{ not json');
  assert.throws(() => loadClauseClassifier(dir), /cannot read it/);
});

test('training data: a gold clause is found again in the cleaned text across changed white space, or by its edges', () => {
  const cleaned = 'The Term.  Either party may\nterminate this Agreement at any time. Other text.';
  const at = locateClause(collapsed(cleaned), 'Either party may terminate this Agreement at any time.');
  assert.ok(at);
  assert.equal(cleaned.slice(at.start, at.end), 'Either party may\nterminate this Agreement at any time.');
  assert.equal(locateClause(collapsed(cleaned), 'Nothing like this is in the text.'), null);
  // The clean-up dropped a page number from the middle of a long clause: found by its first and last 60 characters.
  const head = 'Either party may terminate this Agreement for convenience upon ninety (90) days written';
  const tail = 'notice to the other party, without any liability whatsoever to the other party hereunder.';
  const text = `Preamble. ${head} ${tail} Next.`;
  const edges = locateClause(collapsed(text), `${head} 12 ${tail}`);
  assert.ok(edges);
  assert.equal(text.slice(edges.start, edges.end), `${head} ${tail}`);
});
