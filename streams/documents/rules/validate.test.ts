// validateDocument over a contract modelled on a CUAD services agreement (Ability Inc., 2019).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDocument } from './validate.ts';
import type { NerEntity } from './types.ts';

const CONTRACT = [
  'SERVICES AGREEMENT This Services Agreement (this "Agreement") is entered into on October 1, 2019 and is made effective as of',
  'November 1, 2019 (the "Effective Date"), by and between Micronet Ltd., a company organized under the laws of the State of Israel',
  '(the "Provider"), and TELCOSTAR PTE, LTD., a company organized and existing under the laws of Singapore (the "Recipient").',
  '2. Fees. The Recipient shall pay the Provider a monthly fee of Ten Thousand Dollars ($10,000).',
  '3. Term. This Agreement shall terminate two (2) years after the Effective Date. Either party may terminate this Agreement',
  'for convenience upon ninety (90) days prior written notice.',
  '4. Governing Law. This Agreement shall be governed by and construed in accordance with the laws of the State of Israel.',
].join(' ');

/** An entity at the n-th occurrence of a snippet, as the NER model reports it. */
function at(text: string, label: string, snippet: string, occurrence = 1, confidence = 0.95): NerEntity {
  let start = -1;
  for (let k = 0; k < occurrence; k++) start = text.indexOf(snippet, start + 1);
  assert.ok(start >= 0, `fixture: '${snippet}' #${occurrence} not in text`);
  return { label, start, end: start + snippet.length, text: snippet, confidence };
}

const ENTITIES: NerEntity[] = [
  at(CONTRACT, 'PARTY', 'Micronet Ltd.'),
  at(CONTRACT, 'PARTY', 'Provider'),
  at(CONTRACT, 'PARTY', 'TELCOSTAR PTE, LTD.'),
  at(CONTRACT, 'PARTY', 'Recipient', 2),
  at(CONTRACT, 'AGREEMENT_DATE', 'October 1, 2019'),
  at(CONTRACT, 'EFFECTIVE_DATE', 'November 1, 2019'),
  at(CONTRACT, 'AMOUNT', 'Ten Thousand Dollars ($10,000)'),
  at(CONTRACT, 'EXPIRATION_DATE', 'This Agreement shall terminate two (2) years after the Effective Date.'),
  at(CONTRACT, 'TERMINATION_NOTICE_PERIOD', 'ninety (90) days prior written notice'),
  at(CONTRACT, 'TERMINATION_FOR_CONVENIENCE', 'Either party may terminate this Agreement for convenience'),
  at(CONTRACT, 'GOVERNING_LAW', 'This Agreement shall be governed by and construed in accordance with the laws of the State of Israel.'),
];

test('a clean contract: every entity normalized, no problems, offsets and confidence kept', () => {
  const result = validateDocument(ENTITIES, CONTRACT, { reviewThresholds: { PARTY: 0.5, AMOUNT: 0.5 } });
  assert.deepEqual(result.documentProblems, []);
  assert.deepEqual(result.entities.map((e) => [e.label, e.normalized]), [
    ['PARTY', 'Micronet Ltd.'],
    ['PARTY', 'Micronet Ltd.'],
    ['PARTY', 'TELCOSTAR PTE., LTD.'],
    ['PARTY', 'TELCOSTAR PTE., LTD.'],
    ['AGREEMENT_DATE', '2019-10-01'],
    ['EFFECTIVE_DATE', '2019-11-01'],
    ['AMOUNT', '10000.00 USD'],
    ['EXPIRATION_DATE', '2021-11-01'], // computed from the effective date
    ['TERMINATION_NOTICE_PERIOD', 'P90D'],
    ['TERMINATION_FOR_CONVENIENCE', null], // a clause: kept as found, nothing to normalise
    ['GOVERNING_LAW', 'IL'],
  ]);
  assert.ok(result.entities.every((e) => e.problems.length === 0), JSON.stringify(result.entities.filter((e) => e.problems.length)));
  for (const [i, e] of result.entities.entries()) {
    assert.deepEqual([e.start, e.end, e.text, e.confidence], [ENTITIES[i].start, ENTITIES[i].end, ENTITIES[i].text, ENTITIES[i].confidence]);
  }
  assert.deepEqual(result.parties.map((p) => [p.name, p.roles]), [['Micronet Ltd.', ['Provider']], ['TELCOSTAR PTE., LTD.', ['Recipient']]]);
  assert.match(result.entities[6].notes?.join(' ') ?? '', /assumed to be US dollars/);
});

test('an entity below its label threshold gets a low-confidence problem', () => {
  const entities = ENTITIES.map((e) => (e.label === 'AMOUNT' ? { ...e, confidence: 0.42 } : e));
  const result = validateDocument(entities, CONTRACT, { reviewThresholds: { AMOUNT: 0.6 } });
  assert.deepEqual(result.entities[6].problems, ['low confidence 0.42 < 0.60']);
  assert.equal(result.entities[6].normalized, '10000.00 USD'); // still normalized: confidence is a separate question
  assert.deepEqual(validateDocument(entities, CONTRACT, {}).entities[6].problems, []); // no threshold, no rule
});

test('document problems: no party, one party, no dates', () => {
  const dates = ENTITIES.filter((e) => e.label !== 'PARTY');
  assert.ok(validateDocument(dates, CONTRACT).documentProblems.includes('no PARTY found'));
  const oneParty = ENTITIES.filter((e) => !/TELCOSTAR|Recipient/.test(e.text));
  assert.ok(validateDocument(oneParty, CONTRACT).documentProblems.includes('fewer than two parties: Micronet Ltd.'));
  const noDates = ENTITIES.filter((e) => !/DATE/.test(e.label));
  assert.ok(validateDocument(noDates, CONTRACT).documentProblems.includes('EFFECTIVE_DATE missing (and no AGREEMENT_DATE to take it from)'));
});

test('document problems: expiry before the effective date, two governing laws, disagreeing dates', () => {
  const text = `${CONTRACT} This Agreement expires on June 30, 2018. The laws of the State of New York govern the license. Dated October 2, 2019.`;
  const entities = [
    ...ENTITIES.filter((e) => e.label !== 'EXPIRATION_DATE'),
    at(text, 'EXPIRATION_DATE', 'June 30, 2018'),
    at(text, 'GOVERNING_LAW', 'The laws of the State of New York govern the license.'),
    at(text, 'AGREEMENT_DATE', 'October 2, 2019'),
  ];
  const problems = validateDocument(entities, text).documentProblems;
  assert.ok(problems.includes('EXPIRATION_DATE 2018-06-30 before EFFECTIVE_DATE 2019-11-01'), problems.join(' | '));
  assert.ok(problems.includes('two different GOVERNING_LAW jurisdictions: IL, US-NY'), problems.join(' | '));
  assert.ok(problems.includes('AGREEMENT_DATE entities disagree: 2019-10-01, 2019-10-02'), problems.join(' | '));
});

test('without an EFFECTIVE_DATE a relative expiry counts from the AGREEMENT_DATE', () => {
  const entities = ENTITIES.filter((e) => e.label !== 'EFFECTIVE_DATE');
  const result = validateDocument(entities, CONTRACT);
  assert.equal(result.entities.find((e) => e.label === 'EXPIRATION_DATE')?.normalized, '2021-10-01');
  assert.deepEqual(result.documentProblems, []);
});

test('ambiguous numeric dates: flagged, unless other dates in the document settle the order', () => {
  const text = 'This Agreement is dated 03/04/2020 between ACME Inc. ("Seller") and Beta LLC ("Buyer").';
  const entities = [at(text, 'AGREEMENT_DATE', '03/04/2020'), at(text, 'PARTY', 'ACME Inc.'), at(text, 'PARTY', 'Beta LLC')];
  const flagged = validateDocument(entities, text);
  assert.equal(flagged.entities[0].normalized, '2020-03-04');
  assert.match(flagged.entities[0].problems.join(' '), /ambiguous date: '03\/04\/2020' read as 2020-03-04 .*could be 2020-04-03/);
  const inClause = 'This Agreement shall be effective from 03/04/2020 and binds ACME Inc. and Beta LLC.';
  const clauseResult = validateDocument([at(inClause, 'EFFECTIVE_DATE', inClause)], inClause);
  assert.match(clauseResult.entities[0].problems.join(' '), /ambiguous date: '03\/04\/2020' read as/); // not the "inside a longer text" note
  const settledText = `${text} Invoices dated 25/12/2020 fall due on 31/01/2021.`;
  const settled = validateDocument(entities, settledText);
  assert.equal(settled.entities[0].normalized, '2020-04-03');
  assert.deepEqual(settled.entities[0].problems, []);
  assert.equal(settled.dateOrder.order, 'DMY');
  const stated = validateDocument(entities, text, { dateOrder: 'DMY' });
  assert.equal(stated.entities[0].normalized, '2020-04-03');
  assert.deepEqual(stated.entities[0].problems, []);
});

test('rule failures reach the entity: impossible date, amount without currency, partial date, open-ended term', () => {
  const text = 'Dated February 30, 2020. Fee: 10,000. Effective June 2020. This Agreement shall continue until terminated by either party.';
  const entities = [
    at(text, 'AGREEMENT_DATE', 'February 30, 2020'),
    at(text, 'AMOUNT', '10,000'),
    at(text, 'EFFECTIVE_DATE', 'June 2020'),
    at(text, 'EXPIRATION_DATE', 'This Agreement shall continue until terminated by either party.'),
  ];
  const [date, amount, partial, openEnded] = validateDocument(entities, text).entities;
  assert.deepEqual([date.normalized, date.problems], [null, ['impossible date: February 2020 has 29 days, not 30 (\'February 30, 2020\')']]);
  assert.deepEqual([amount.normalized, amount.problems], [null, ["no currency symbol or code in '10,000'"]]);
  assert.deepEqual([partial.normalized, partial.problems], ['2020-06', ['partial date: month 2020-06 without a day']]);
  assert.deepEqual([openEnded.normalized, openEnded.problems], [null, []]);
  assert.match(openEnded.notes?.join(' ') ?? '', /open-ended/);
});

test('offsets that do not hold the entity text are a problem', () => {
  const entity = { ...at(CONTRACT, 'AMOUNT', '($10,000)'), start: 0 };
  assert.match(validateDocument([entity], CONTRACT).entities[0].problems.join(' '), /offsets 0-\d+ do not hold the entity text/);
  const outside = { label: 'AMOUNT', start: 5, end: 99999, text: '$1', confidence: 1 };
  assert.match(validateDocument([outside], CONTRACT).entities[0].problems.join(' '), /outside the text/);
});
