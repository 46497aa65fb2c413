// The committed contract-type export, held equal to sklearn: models/documents/contract_type.py wrote
// fixtures/contract-type-fixture.json with Python's analyzer terms and predict_proba for each text
// (ASCII, non-ASCII with characters outside the BMP, empty, a CUAD head longer than head_chars).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CONTRACT_TYPE_MODEL_FILE, ContractTypeModelError, DEFAULT_CONTRACT_TYPE_MODEL_DIR, classifyContractType,
  headCodePoints, loadContractTypeModel,
} from './contract-type.ts';
import { tfidfTokens, wordNgrams } from './tfidf.ts';

interface Fixture {
  classes: string[];
  coef_sha256: string;
  cases: { name: string; text: string; terms: string[]; proba: number[]; label: string }[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/contract-type-fixture.json', import.meta.url), 'utf8')) as Fixture;
const model = loadContractTypeModel();

test('the fixture was made with the committed export', () => {
  const raw = JSON.parse(readFileSync(join(DEFAULT_CONTRACT_TYPE_MODEL_DIR, CONTRACT_TYPE_MODEL_FILE), 'utf8'));
  const sha = createHash('sha256').update(raw.coef.base64).digest('hex');
  assert.equal(sha, fixture.coef_sha256, 'fixture is stale: rerun models/documents/contract_type.py');
  assert.deepEqual(model.classes, fixture.classes);
  assert.ok(fixture.cases.some((c) => /[^\u0000-\uffff]/u.test(c.text)), 'a case has a character outside the BMP');
  assert.ok(fixture.cases.some((c) => [...c.text].length > model.headChars), 'a case is longer than head_chars');
});

test('terms and probabilities equal sklearn\'s (1e-6)', () => {
  for (const c of fixture.cases) {
    const grams = wordNgrams(tfidfTokens(headCodePoints(c.text, model.headChars)), model.ngramRange);
    assert.deepEqual(grams.slice(0, c.terms.length), c.terms, `${c.name}: analyzer terms`);
    const result = classifyContractType(model, c.text);
    const byLabel = new Map(result.top.map((t) => [t.label, t.confidence]));
    fixture.classes.forEach((label, k) => {
      const got = byLabel.get(label)!;
      assert.ok(Math.abs(got - c.proba[k]) <= 1e-6, `${c.name}: P(${label}) = ${got}, Python ${c.proba[k]}`);
    });
    assert.equal(result.label, c.label, `${c.name}: label`);
    assert.equal(result.top.length, model.classes.length);
    assert.ok(Math.abs(result.top.reduce((s, t) => s + t.confidence, 0) - 1) < 1e-9, `${c.name}: probabilities sum to 1`);
  }
});

test('clear titles get their type, and the top list is sorted', () => {
  const cases: [string, string][] = [
    ['EXCLUSIVE DISTRIBUTOR AGREEMENT\n\nThis Distributor Agreement appoints Beta Ltd. as the exclusive distributor of '
      + 'Acme\'s products in the territory; the Distributor shall purchase the products for resale.', 'distributor'],
    ['FRANCHISE AGREEMENT\n\nThis Franchise Agreement is made between Franchisor and Franchisee, who is granted a '
      + 'franchise to operate a restaurant under the franchisor\'s system and marks and shall pay royalty fees.', 'franchise'],
    ['SPONSORSHIP AGREEMENT\n\nThe Sponsor shall be the official sponsor of the event and receive sponsorship '
      + 'rights, signage and hospitality in return for the sponsorship fee.', 'sponsorship'],
  ];
  for (const [text, label] of cases) {
    const result = classifyContractType(model, text);
    assert.equal(result.label, label, `${text.slice(0, 40)}: got ${JSON.stringify(result.top.slice(0, 3))}`);
    assert.ok(result.matchedTerms > 5);
    for (let i = 1; i < result.top.length; i++) assert.ok(result.top[i - 1].confidence >= result.top[i].confidence);
  }
});

test('text without known terms returns the prior with matchedTerms 0; bad input and bad files fail clearly', () => {
  assert.equal(classifyContractType(model, '').matchedTerms, 0);
  assert.equal(classifyContractType(model, '!!! 🚀 …').matchedTerms, 0);
  assert.throws(() => classifyContractType(model, undefined as unknown as string), /needs the contract text as a string/);
  const dir = mkdtempSync(join(tmpdir(), 'contract-type-'));
  try {
    assert.throws(() => loadContractTypeModel(dir), ContractTypeModelError);
    const raw = JSON.parse(readFileSync(join(DEFAULT_CONTRACT_TYPE_MODEL_DIR, CONTRACT_TYPE_MODEL_FILE), 'utf8'));
    raw.intercept = raw.intercept.slice(1);
    writeFileSync(join(dir, CONTRACT_TYPE_MODEL_FILE), JSON.stringify(raw));
    assert.throws(() => loadContractTypeModel(dir), /classes, intercepts and coef rows disagree/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('head is counted in code points like Python\'s text[:n]', () => {
  assert.equal(headCodePoints('a🚀bc', 2), 'a🚀');
  assert.equal(headCodePoints('ab', 5), 'ab');
  assert.deepEqual(tfidfTokens('Société ﬁnance ＡＢＣ x'), ['societe', 'finance', 'abc']);
});
