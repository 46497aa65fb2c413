import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NER_MODEL_DIR } from './model.ts';
import type { NerEntity } from './ner.ts';
import { loadPartyRanker, partyCandidates, rankParties, scoreParty, type PartyRankerModel } from './party-ranker.ts';
import { normalisedStem } from './party-ranker-data.ts';

const PREAMBLE = 'MASTER SERVICES AGREEMENT\n\nThis Master Services Agreement (the "Agreement") is entered into as of March 3, 2019 by and between '
  + 'Acme Widgets, Inc., a Delaware corporation ("Acme"), and Globex Consulting LLC, a New York limited liability company ("Consultant").\n\n';
const FILLER = 'The parties agree as follows. '.repeat(400);
const TEXT = PREAMBLE + FILLER + 'The Company has filed with the Office of Thrift Supervision (the "OTS") an application.' + FILLER;
const tagged = (text: string, name: string, confidence = 0.8): NerEntity => ({ label: 'PARTY', start: TEXT.indexOf(name), end: TEXT.indexOf(name) + name.length, text: name, confidence });

test('candidates come from the tagger, the defined terms, the legal names and the preamble\'s party slots of the opening pages, one per text', () => {
  const byText = new Map(partyCandidates(TEXT, [tagged(TEXT, 'Acme Widgets, Inc.')]).map((c) => [c.text, c.features]));
  assert.deepEqual([...byText.keys()], ['Acme Widgets, Inc.', 'Widgets, Inc.', 'Acme', 'Globex Consulting LLC', 'Consulting LLC', 'Consultant', 'OTS']);
  const acme = byText.get('Acme Widgets, Inc.')!;
  for (const f of ['src:ner', 'src:legal', 'src:preamble', 'sources:legal+ner+preamble', 'nerc:8', 'described_after', 'legal_form', 'trimmed:0', 'defined_after', 'prev:between', 'pos:0']) assert.ok(acme.includes(f), f);
  assert.ok(byText.get('Widgets, Inc.')!.includes('trimmed:1'));
  assert.ok(byText.get('OTS')!.includes('src:def') && byText.get('OTS')!.includes('acronym') && byText.get('OTS')!.includes('def_pos:4'));
});

test('a blank line ends a legal name: a date line above a letterhead name is not part of it', () => {
  const text = 'November ___, 2006\n\nSANDLER O\'NEILL & PARTNERS, L.P.\nNew York\n\nGreater Delaware Valley\nSavings Bank (the "Bank")';
  const texts = partyCandidates(text, []).map((c) => c.text);
  assert.ok(texts.includes('SANDLER O\'NEILL & PARTNERS, L.P.'));
  assert.ok(texts.includes('Greater Delaware Valley\nSavings Bank'), 'one line break inside a name is kept');
  assert.ok(!texts.some((t) => t.startsWith('2006')));
});

test('the preamble\'s slots propose persons, cities and firms without a legal form, and both halves of a d/b/a name', () => {
  const text = 'CONSULTING AGREEMENT made as of April 1, 2019 between Idan Maimon ("Maimon") and the City of Fort Stockton, Texas, '
    + 'and RMF Empire, Inc. DBA West Coast Customs, and YOU ON DEMAND HOLDINGS, INC., a Nevada corporation.';
  const texts = partyCandidates(text, []).filter((c) => c.features.includes('src:preamble')).map((c) => c.text);
  assert.deepEqual(texts, ['Idan Maimon', 'City of Fort Stockton', 'RMF Empire, Inc. DBA West Coast Customs', 'RMF Empire, Inc.', 'West Coast Customs', 'YOU ON DEMAND HOLDINGS, INC.']);
  assert.ok(partyCandidates(text, []).some((c) => c.text === 'YOU ON DEMAND HOLDINGS, INC.' && c.features.includes('src:legal')), 'a legal form in capitals, after another');
});

test('preamble names carry their slot from "between" on, a d/b/a name says whole or half, a role says whose it is', () => {
  const text = 'SUPPLY AND DISTRIBUTION AGREEMENT\n\nThis Agreement is made between RMF Empire, Inc. DBA West Coast Customs, a California corporation ("West Coast"), '
    + 'and Idan Maimon, an individual residing in Tel Aviv ("Consultant").';
  const byText = new Map(partyCandidates(text, []).map((c) => [c.text, c.features]));
  const has = (name: string, ...features: string[]) => { for (const f of features) assert.ok(byText.get(name)?.includes(f), `${name}: ${f} in ${byText.get(name)}`); };
  const lacks = (name: string, prefix: string) => assert.ok(!byText.get(name)?.some((f) => f.startsWith(prefix)), `${name}: no ${prefix}`);
  has('RMF Empire, Inc. DBA West Coast Customs', 'slot:0', 'split:whole', 'described:org');
  has('RMF Empire, Inc.', 'slot:0', 'split:half');
  has('Idan Maimon', 'slot:1', 'described:person');
  lacks('Idan Maimon', 'split:');
  has('West Coast', 'role_of_name', 'role_of_slot:0', 'role_of_legal');
  has('Consultant', 'role_of_name', 'role_of_slot:1');
  lacks('Consultant', 'role_of_legal');
  lacks('DISTRIBUTION AGREEMENT', 'slot:'); // the title's "and" is before "between": no slot
});

test('the name above "By:" in a signature block is a candidate; a date before it and a trailing descriptor are not part of it', () => {
  const text = 'Agreement text. '.repeat(50) + 'IN WITNESS WHEREOF the parties have signed below.\n\nDate: April 7, 2020 BANK OF AMERICA CORPORATION\n\nBy: Ally Pecarro\n\n'
    + 'written.      ABC Company, Broker Dealer         By: ______';
  const signatures = partyCandidates(text, []).filter((c) => c.features.includes('src:signature')).map((c) => c.text);
  assert.deepEqual(signatures, ['BANK OF AMERICA CORPORATION', 'ABC Company']);
});

test('rankParties keeps the candidates at or above the threshold in place of the tagger\'s PARTY entities', () => {
  const model: PartyRankerModel = { model_version: 't', bias: -1, weights: { 'src:legal': 3, 'trimmed:1': -5, 'acronym': -3 }, threshold: 0.5 };
  const others: NerEntity = { label: 'GOVERNING_LAW', start: 5, end: 9, text: 'MAST', confidence: 0.5 };
  const out = rankParties(TEXT, [tagged(TEXT, 'Acme'), others], model);
  assert.deepEqual(out.map((e) => `${e.label}:${e.text}`), ['GOVERNING_LAW:MAST', 'PARTY:Acme Widgets, Inc.', 'PARTY:Globex Consulting LLC']);
  assert.ok(Math.abs(out[1].confidence - 1 / (1 + Math.exp(-2))) < 1e-12);
});

test('the committed ranker keeps the preamble\'s parties and drops a regulator defined deep in the text', () => {
  const model = loadPartyRanker(DEFAULT_NER_MODEL_DIR);
  assert.ok(model, 'models/documents/artifacts/party-ranker.json is committed');
  const kept = rankParties(TEXT, [tagged(TEXT, 'Acme Widgets, Inc.')], model).map((e) => e.text);
  assert.ok(kept.includes('Acme Widgets, Inc.') && kept.includes('Globex Consulting LLC'), kept.join(' | '));
  assert.ok(!kept.includes('OTS') && !kept.includes('Widgets, Inc.'), kept.join(' | '));
  const scores = partyCandidates(TEXT, []).map((c) => scoreParty(model, c.features));
  assert.ok(scores.every((p) => p > 0 && p < 1));
});

test('a ranker file without its weights is refused; a folder without one has none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'party-ranker-'));
  writeFileSync(join(dir, 'party-ranker.json'), JSON.stringify({ model_version: 'x', bias: 0, threshold: 0.5 }));
  assert.throws(() => loadPartyRanker(dir), /bias, weights and threshold/);
  assert.equal(loadPartyRanker(join(dir, 'absent')), null);
});

test('contract ids from CUAD file names match cuad_text.py (stray quote, decomposed accents, extension)', () => {
  assert.equal(normalisedStem("ACME_01_02_2003-EX-10.1-Distributor Agreement.PDF'"), 'acme-01-02-2003-ex-10-1-distributor-agreement');
  assert.equal(normalisedStem('Société Ge\u0301ne\u0301rale - License.txt'), 'societe-generale-license');
});
