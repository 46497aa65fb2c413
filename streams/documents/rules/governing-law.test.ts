// Governing-law rules on clauses from CUAD contracts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeGoverningLaw, type GoverningLawResult } from './governing-law.ts';

function code(result: GoverningLawResult): string {
  assert.ok('jurisdiction' in result, `expected a jurisdiction, got problem: ${'problem' in result ? result.problem : ''}`);
  return result.jurisdiction;
}
function problem(result: GoverningLawResult): string {
  assert.ok('problem' in result, `expected a problem, got ${JSON.stringify(result)}`);
  return result.problem;
}

test('US states map to ISO 3166-2 codes with a display name', () => {
  const result = normalizeGoverningLaw('This Agreement shall be construed in accordance with and governed by the substantive internal laws of the State of New York.');
  assert.deepEqual(result, { jurisdiction: 'US-NY', name: 'New York, United States', country: 'US', notes: [] });
  const cases: [string, string][] = [
    ['This Agreement shall be governed by, construed, and enforced in accordance with the laws of the State of Delaware, without regard to choice of law principles that would require the application of the laws of any other jurisdiction.', 'US-DE'],
    ['This Agreement shall be deemed to have been made in the state of Washington and shall be construed in accordance with the laws of the state of Washington.', 'US-WA'],
    ['This Agreement shall be governed by and construed in accordance with the laws of New York, without giving effect to the principles of conflict of laws.', 'US-NY'],
    ['governed by the laws of the State of New Jersey', 'US-NJ'], // not the island of Jersey
    ['governed by the laws of the State of West Virginia', 'US-WV'], // not Virginia
    ['governed by the laws of the State of New Mexico', 'US-NM'], // not Mexico
    ['governed by the laws of the Commonwealth of Massachusetts', 'US-MA'],
    ['governed by the laws of Washington, D.C.', 'US-DC'],
    ['This Agreement shall be governed by and construed pursuant to the laws of the State of Indiana, U.S.A., without reference to principals of conflicts of laws.', 'US-IN'],
    ['governed by the laws of India', 'IN'], // not Indiana
    ['This Agreement shall be governed by and interpreted in accordance with the laws of the State of Florida, without regard to its conflict-of-laws or choice-of law principles.', 'US-FL'],
  ];
  for (const [text, expected] of cases) assert.equal(code(normalizeGoverningLaw(text)), expected, text);
});

test('federal law named beside a state or province: the subdivision governs', () => {
  const ny = normalizeGoverningLaw('This IP Agreement will be construed in accordance with the substantive laws of the state of New York and of the United States of America.');
  assert.equal(code(ny), 'US-NY');
  assert.ok('notes' in ny && /US named alongside its own subdivision/.test(ny.notes.join(' ')));
  assert.equal(code(normalizeGoverningLaw('This Development Agreement shall be governed by and construed in accordance with the laws of the State of Minnesota, United States of America, disregarding its conflicts of law rules.')), 'US-MN');
  assert.equal(code(normalizeGoverningLaw('This Agreement shall be governed by the laws of the Province of Ontario and the federal laws of Canada applicable therein.')), 'CA-ON');
  assert.equal(code(normalizeGoverningLaw('laws of the Province of British Columbia, Canada')), 'CA-BC');
});

test('countries are ISO 3166-1 alpha-2; England and Wales is GB-EAW', () => {
  const cases: [string, string][] = [
    ['This Agreement shall be governed by and construed in accordance with the laws of the state of Israel, without giving effect to choice of law rules.', 'IL'],
    ["This Agreement shall be governed by the laws of the People's Republic of China.", 'CN'],
    ['governed by the laws of the PRC', 'CN'],
    ['governed by the laws of the Hong Kong Special Administrative Region of the People\'s Republic of China', 'HK'],
    ['This Agreement shall be governed by and construed in accordance with the laws of England and Wales.', 'GB-EAW'],
    ['This Agreement shall be governed by the laws of England.', 'GB-EAW'],
    ['This Agreement is governed by English law.', 'GB-EAW'],
    ['governed by the laws of Scotland', 'GB-SCT'],
    ['governed by Swiss law', 'CH'],
    ['governed by the laws of the Republic of Kazakhstan', 'KZ'],
    ['the laws of Papua New Guinea', 'PG'], // not Guinea
    ['governed by the laws of the Federal Republic of Germany', 'DE'],
    ['governed by the laws of the Netherlands', 'NL'],
    ['governed by the laws of Taiwan', 'TW'],
    ['governed by the laws of the Republic of China (Taiwan)', 'TW'], // not the PRC
    ['governed by the laws of the Republic of Korea', 'KR'],
    ['governed by the laws of Saint Kitts and Nevis', 'KN'], // ICU spells it "St. Kitts & Nevis"
    ['governed by the laws of the Democratic Republic of the Congo', 'CD'],
  ];
  for (const [text, expected] of cases) assert.equal(code(normalizeGoverningLaw(text)), expected, text);
  const english = normalizeGoverningLaw('This Agreement is governed by English law.');
  assert.ok('notes' in english && /law of England and Wales/.test(english.notes.join(' ')));
});

test('courts and venues in the same clause do not count as governing law', () => {
  const text = 'This Agreement will be governed and construed in accordance with the laws of the State of New York without giving effect to conflict of laws principles. Both parties submit to personal jurisdiction in California and further agree that any cause of action shall be brought in the courts of California.';
  assert.equal(code(normalizeGoverningLaw(text)), 'US-NY');
  assert.equal(code(normalizeGoverningLaw('This Agreement shall be governed by the laws of the State of California, without regard to conflict of laws. The United Nations Convention on Contracts for the International Sale of Goods shall not apply.')), 'US-CA');
});

test('a bare answer span names its jurisdiction', () => {
  assert.equal(code(normalizeGoverningLaw('Delaware')), 'US-DE');
  assert.equal(code(normalizeGoverningLaw('Ontario, Canada')), 'CA-ON');
});

test('Georgia is the US state unless the clause says Republic of Georgia, and says so', () => {
  const state = normalizeGoverningLaw('This Agreement shall be governed by the laws of the State of Georgia.');
  assert.equal(code(state), 'US-GA');
  assert.ok('notes' in state && /it also names Georgia/.test(state.notes.join(' ')));
  assert.equal(code(normalizeGoverningLaw('governed by the laws of the Republic of Georgia')), 'GE');
});

test('two jurisdictions are flagged with both candidates', () => {
  const result = normalizeGoverningLaw('This Agreement shall be governed by the laws of the State of Texas, except that matters relating to the Licensed Patents shall be governed by the laws of Singapore.');
  assert.match(problem(result), /several jurisdictions named: US-TX \(Texas, United States\), SG \(Singapore\)/);
  assert.ok('candidates' in result);
  assert.deepEqual(result.candidates.map((c) => c.code), ['US-TX', 'SG']);
  assert.match(problem(normalizeGoverningLaw('governed by the laws of the Commonwealth of Massachusetts, and as to patent matters by the laws of the Netherlands')), /US-MA .* NL/);
});

test('no jurisdiction: a problem, naming courts or places if that is all the clause has', () => {
  assert.match(problem(normalizeGoverningLaw('This Agreement shall be governed by applicable law.')), /^no governing-law jurisdiction found$/);
  assert.match(problem(normalizeGoverningLaw('The parties submit to the exclusive jurisdiction of the courts of New York.')), /only courts or places named: New York/);
  assert.match(problem(normalizeGoverningLaw('')), /no governing-law jurisdiction found/);
});

test('"the laws thereof", glued PDF words, and where a party was incorporated', () => {
  assert.equal(code(normalizeGoverningLaw('This Agreement is accepted by Company in the State of Nevada and shall be governed by and construed in accordance with the laws thereof, which laws shall prevail in the event of any conflict.')), 'US-NV');
  assert.equal(code(normalizeGoverningLaw('This Agreement shad be deemed a contract made under and shall be construed in accordance with and governed by the laws ofthe State ofTexas')), 'US-TX');
  assert.equal(code(normalizeGoverningLaw('it shall be governed and construed under and in accordance with the laws of the State of Florida; U.S.A.; provided, however, that since the Franchisee is a corporation formed under the laws of the Republic of Poland which is not doing business in the State of Florida, the Florida Franchise Act shall not apply.')), 'US-FL');
  assert.equal(code(normalizeGoverningLaw('Effective legislation of the Republic of Kazakhstan shall apply to any relations of the Parties arising out of this Contract.')), 'KZ');
});
