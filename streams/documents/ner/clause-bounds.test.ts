// The tagger's clause edges, as they came out on CUAD validation contracts, snapped to the sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapClause, snapClauses } from './clause-bounds.ts';
import type { NerEntity } from './ner.ts';

/** The snapped text of the entity that spans `from`..`to` (substrings of `text`, first occurrences). */
function snapped(text: string, from: string, to: string): string {
  const start = text.indexOf(from);
  const end = text.indexOf(to, start) + to.length;
  assert.ok(start >= 0 && end >= start + to.length, `fixture: ${from} .. ${to}`);
  const r = snapClause(text, start, end);
  return text.slice(r.start, r.end);
}

const TERM = 'This Agreement shall become effective on the date first written above and shall continue in effect for a period of Three (3) years.';

test('a section heading before the sentence is dropped, however it is set off', () => {
  for (const heading of ['0 TERM ', 'Effective Date and Duration. ', 'TERM\n\n', 'Term and Termination a) ', '1 Term of the Agreement ', 'Term [* * *]\n\n']) {
    const text = `Prior words end here.\n\n${heading}${TERM}\n\nNext section.`;
    assert.equal(snapped(text, heading.trim().slice(0, 4), 'years.'), TERM, JSON.stringify(heading));
  }
  // A section number before a defined term.
  const defined = '1.83 "Territory" means the world. 1.84 "Term" means, on a country-by-country basis, the period ending ten (10) years after the First Commercial Sale.';
  assert.equal(snapped(defined, '1.84', 'Sale.'), '"Term" means, on a country-by-country basis, the period ending ten (10) years after the First Commercial Sale.');
  // The tail of a section number that the tagger's span cut ("1.2" -> ".2").
  const employment = '1.1 Terms apply. 1.2 Your employment shall commence on 26 September 2019 and shall continue until notice.';
  assert.equal(snapped(employment, '.2 Your', 'notice.'), 'Your employment shall commence on 26 September 2019 and shall continue until notice.');
});

test('a sentence that starts with its subject keeps it; a label-and-value line is left as it is', () => {
  const company = 'Recitals follow. The Company may terminate this Agreement for convenience on ninety (90) days notice.';
  assert.equal(snapped(company, 'The Company', 'notice.'), 'The Company may terminate this Agreement for convenience on ninety (90) days notice.');
  const line = 'Contract start: January 1, 2021\nTermination Date: December 31, 2023\nPrice: see Exhibit B';
  assert.equal(snapped(line, 'Termination Date', '2023'), 'Termination Date: December 31, 2023');
});

test('a span that starts a word or a clause late goes back to the sentence start', () => {
  const late = 'Section 2 ends here. Subject to the other provisions contained herein, this AGREEMENT shall be for a term of thirty (30) years from the Effective Date.';
  assert.equal(snapped(late, 'to the other', 'Date.'), 'Subject to the other provisions contained herein, this AGREEMENT shall be for a term of thirty (30) years from the Effective Date.');
  const clause = 'Research terms. Unless earlier terminated in accordance with Section 4.2 or 4.3, this Agreement will be in effect from the Effective Date until completion of the Research Program.';
  assert.equal(snapped(clause, ', this Agreement', 'Program.'), clause.slice(clause.indexOf('Unless')));
});

test('a run on into the next sentence is cut; a span that stops inside a section number runs to the sentence end', () => {
  const runOn = 'The license shall continue in effect until June 27, 2011 (the "Term"). The Licensee shall report monthly.';
  assert.equal(snapped(runOn, 'The license', 'The Licensee'), 'The license shall continue in effect until June 27, 2011 (the "Term").');
  const numbered = 'This Agreement shall remain in effect, unless sooner terminated under paragraphs 5.2, 5.3, or 5.4, until the Termination Date specified in Exhibit A. Prices are in Exhibit B.';
  assert.equal(snapped(numbered, 'This Agreement', 'paragraphs 5.2, 5'), 'This Agreement shall remain in effect, unless sooner terminated under paragraphs 5.2, 5.3, or 5.4, until the Termination Date specified in Exhibit A.');
  // An abbreviation is no sentence end: "Inc." does not cut the clause.
  const abbreviation = 'This Agreement binds Acme Inc. Delaware for five (5) years from the Effective Date, then ends.';
  assert.equal(snapped(abbreviation, 'This Agreement', 'ends.'), abbreviation);
});

test('a far sentence start or a long second sentence is left alone', () => {
  const long = `${'word '.repeat(60)}and then shall continue for two years.`;
  assert.equal(snapped(long, 'shall continue', 'years.'), 'shall continue for two years.');
  const second = `This Agreement continues for two years. ${'The parties agree to many further things at length, '.repeat(4)}here.`;
  assert.equal(snapped(second, 'This Agreement', 'here.'), second);
});

test('snapClauses moves only the clause labels and keeps what it does not move', () => {
  const text = `Acme Inc. and Beta LLC agree. 0 TERM ${TERM}`;
  const entities: NerEntity[] = [
    { label: 'PARTY', start: 0, end: 9, text: 'Acme Inc.', confidence: 0.9 },
    { label: 'EXPIRATION_DATE', start: text.indexOf('TERM'), end: text.length, text: text.slice(text.indexOf('TERM')), confidence: 0.8 },
  ];
  const [party, expiry] = snapClauses(entities, text);
  assert.equal(party, entities[0]);
  assert.deepEqual(expiry, { label: 'EXPIRATION_DATE', start: text.indexOf('This'), end: text.length, text: TERM, confidence: 0.8 });
});
