// Date rules on phrases taken from CUAD contracts (including their PDF-extraction damage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeDate, type DateResult } from './normalize-date.ts';
import { parseNumberWords, parseYearWords } from './number-words.ts';

function iso(result: DateResult): string {
  assert.ok('iso' in result, `expected a date, got problem: ${'problem' in result ? result.problem : ''}`);
  return result.iso;
}
function problem(result: DateResult): string {
  assert.ok('problem' in result, `expected a problem, got ${JSON.stringify(result)}`);
  return result.problem;
}

test('contract spellings of a full date normalise to YYYY-MM-DD', () => {
  const cases: [string, string][] = [
    ['June 15, 2020', '2020-06-15'],
    ['15th day of June, 2020', '2020-06-15'],
    ['the 1st day of March 2001', '2001-03-01'],
    ['2020-06-15', '2020-06-15'],
    ['06/15/2020', '2020-06-15'],
    ['15.06.2020', '2020-06-15'],
    ['17t h day of May, 2017', '2017-05-17'], // pdftotext splits ordinals
    ['1s t day of June, 2004', '2004-06-01'],
    ['19  DAY OF MAY , 2010', '2010-05-19'],
    ['27th day of April  2009', '2009-04-27'],
    ['January 6th, 2016', '2016-01-06'],
    ['The commencement date for this contract will be 16th June 2004.', '2004-06-16'],
    ['Sept. 1, 2020', '2020-09-01'],
    ['the first day of July, 2017', '2017-07-01'],
    ['this twenty-first day of March, 2019', '2019-03-21'],
    ['the fifteenth day of June, two thousand and twenty', '2020-06-15'],
    ['February 29, 2020', '2020-02-29'],
  ];
  for (const [text, expected] of cases) assert.equal(iso(normalizeDate(text)), expected, text);
});

test('a month and year without a day is a partial date YYYY-MM', () => {
  const result = normalizeDate('April 2013');
  assert.ok('iso' in result);
  assert.equal(result.iso, '2013-04');
  assert.equal(result.precision, 'month');
});

test('impossible dates are rejected with the reason', () => {
  assert.match(problem(normalizeDate('February 30, 2020')), /February 2020 has 29 days, not 30/);
  assert.match(problem(normalizeDate('2021-02-29')), /2021 is not a leap year/);
  assert.match(problem(normalizeDate('31st day of April, 2015')), /April 2015 has 30 days/);
  assert.match(problem(normalizeDate('13/13/2020')), /no reading as month\/day or day\/month/);
  assert.match(problem(normalizeDate('2020-13-01')), /month 13 does not exist/);
  assert.match(problem(normalizeDate('June 15, 1492')), /implausible year 1492/);
});

test('numeric day/month ambiguity: US order by default, flagged; a day above 12 decides', () => {
  const us = normalizeDate('03/04/2020');
  assert.ok('iso' in us);
  assert.equal(us.iso, '2020-03-04');
  assert.equal(us.ambiguous, true);
  assert.match(us.notes.join(' '), /could be 2020-04-03/);
  const gb = normalizeDate('03/04/2020', { dateOrder: 'DMY' });
  assert.ok('iso' in gb);
  assert.equal(gb.iso, '2020-04-03');
  assert.equal(gb.ambiguous, true);
  const decided = normalizeDate('13/04/2020'); // only day/month is possible, even under MDY
  assert.ok('iso' in decided);
  assert.equal(decided.iso, '2020-04-13');
  assert.equal(decided.ambiguous, false);
  const same = normalizeDate('05/05/2020');
  assert.ok('iso' in same && same.ambiguous === false);
});

test('two-digit years pivot at 50 and say so', () => {
  const result = normalizeDate('7/13/98');
  assert.ok('iso' in result);
  assert.equal(result.iso, '1998-07-13');
  assert.match(result.notes.join(' '), /two-digit year '98' read as 1998/);
  assert.equal(iso(normalizeDate('5/28/14')), '2014-05-28');
});

test('blanks left in the signed form are problems, not dates', () => {
  assert.equal(problem(normalizeDate('this ______ day of ________________, 2013')), 'date left blank in the contract: only the year 2013 is filled in');
  assert.match(problem(normalizeDate('day of , 2014')), /only the year 2014/);
  assert.match(problem(normalizeDate('____________, 20__')), /date left blank/);
  assert.equal(problem(normalizeDate('fiscal 2013')), 'only a year (2013): no month or day');
});

test('section numbers are not dotted dates', () => {
  assert.match(problem(normalizeDate('as set forth in Section 2.1.10')), /no date found/);
  assert.equal(iso(normalizeDate('1.2.2010')), '2010-02-01');
});

test('text without any date is a problem', () => {
  assert.match(problem(normalizeDate('the date on which the Parties agree')), /no date found/);
  assert.match(problem(normalizeDate('')), /no date found/);
});

test('several different dates in one entity are a problem unless an expiry clause names its end', () => {
  assert.match(problem(normalizeDate('January 1, 2020 and March 5, 2021')), /several different dates/);
  const clause = 'The Term shall commence on the date of this Agreement and, unless earlier terminated or extended as provided below, shall end as of December 31, 2000.';
  assert.equal(iso(normalizeDate(clause, { label: 'EXPIRATION_DATE' })), '2000-12-31');
  const twoDates = 'This Agreement commences on March 1, 2015 and terminates on August 2nd, 2015 upon completion of event.';
  assert.equal(iso(normalizeDate(twoDates, { label: 'EXPIRATION_DATE' })), '2015-08-02');
});

test('relative expiry: structured term, a date only when the anchor date is known', () => {
  const text = 'This Agreement shall commence as of the Effective Date and, unless earlier terminated as provided under this Agreement, shall terminate five (5) years after the Effective Date.';
  const unknown = normalizeDate(text, { label: 'EXPIRATION_DATE' });
  assert.ok('problem' in unknown);
  assert.match(unknown.problem, /relative term 'five \(5\) years' after the EFFECTIVE_DATE, which is not known/);
  assert.deepEqual(unknown.term?.duration, { years: 5, months: 0, weeks: 0, days: 0, businessDays: false });
  assert.equal(unknown.term?.from, 'EFFECTIVE_DATE');
  const known = normalizeDate(text, { label: 'EXPIRATION_DATE', anchors: { EFFECTIVE_DATE: '2008-02-28' } });
  assert.equal(iso(known), '2013-02-28');
  const fromStart = normalizeDate('this Agreement shall commence effective June 1, 1998, and shall continue for a term of three (3) years', { label: 'EXPIRATION_DATE' });
  assert.equal(iso(fromStart), '2001-06-01');
  const anniversary = normalizeDate('until the third anniversary of the date hereof', { label: 'EXPIRATION_DATE', anchors: { AGREEMENT_DATE: '2016-02-29' } });
  assert.equal(iso(anniversary), '2019-02-28'); // no February 29 in 2019: the month end
});

test('relative expiry from an event, business days, or words that disagree with figures', () => {
  const launch = normalizeDate('The initial term will begin on the Effective Date and end twelve (12) months after the Launch (the "Term").', { label: 'EXPIRATION_DATE', anchors: { EFFECTIVE_DATE: '2005-07-13' } });
  assert.match(problem(launch), /counted from 'Launch', an event rather than a date/);
  assert.match(problem(normalizeDate('ten (10) business days after the Effective Date', { anchors: { EFFECTIVE_DATE: '2020-01-01' } })), /cannot be counted on a calendar/);
  assert.match(problem(normalizeDate('five (6) years after the Effective Date', { label: 'EXPIRATION_DATE' })), /words and figures disagree/);
});

test('open-ended terms are not dates and are marked openEnded', () => {
  const result = normalizeDate('This Agreement shall become effective as of the date first set forth above, and shall continue in full force and effect until terminated as provided herein.', { label: 'EXPIRATION_DATE' });
  assert.ok('problem' in result && result.openEnded === true);
  assert.ok('problem' in normalizeDate('perpetual', { label: 'EXPIRATION_DATE' }));
});

test('"the date first written above" resolves to the agreement date when it is known', () => {
  assert.equal(iso(normalizeDate('"Effective Date" means the date first written above', { anchors: { AGREEMENT_DATE: '2004-06-01' } })), '2004-06-01');
  assert.match(problem(normalizeDate('"Effective Date" means the date first written above')), /refers to the AGREEMENT_DATE, which is not known/);
  // Another date "set forth" somewhere else is no reference to the contract's own date.
  const addendum = 'The Term shall begin on the Effective Date and will end on the Expiration Date set forth in the Addendum, unless terminated earlier.';
  assert.match(problem(normalizeDate(addendum, { label: 'EXPIRATION_DATE', anchors: { AGREEMENT_DATE: '2014-03-21', EFFECTIVE_DATE: '2014-03-21' } })), /no date found/);
  assert.equal(iso(normalizeDate('effective as of the date set forth below', { anchors: { AGREEMENT_DATE: '2020-04-07' } })), '2020-04-07');
});

test('number words', () => {
  assert.equal(parseNumberWords('Two Million Five Hundred Thousand'), 2_500_000);
  assert.equal(parseNumberWords('one hundred and fifty'), 150);
  assert.equal(parseNumberWords('twenty-first'), 21);
  assert.equal(parseNumberWords('a hundred'), 100);
  assert.equal(parseNumberWords('five apples'), null);
  assert.equal(parseNumberWords('first second'), null); // an ordinal only ends a number
  assert.equal(parseYearWords('nineteen ninety-nine'), 1999);
  assert.equal(parseYearWords('two thousand twenty'), 2020);
});

test('expiry clauses from CUAD: start date plus term, "from X to Y", and a start date alone', () => {
  const E = { label: 'EXPIRATION_DATE' };
  assert.equal(iso(normalizeDate('The term of the Franchise shall be twenty (20) years, commencing on January 1, 2016.', E)), '2036-01-01');
  assert.equal(iso(normalizeDate('Terms of the project: 12 weeks from February 8, 2018 to May 3, 2018', E)), '2018-05-03');
  assert.match(problem(normalizeDate('This Agreement shall commence on March 1, 2010.', E)), /only date in the expiry clause is its start \(2010-03-01\)/);
  // The clause names its anchor ("the date of this Agreement") and it wins over the start date in it.
  const anniversary = 'The term of this Agreement will begin on February 1, 1998 and end on the first anniversary of the date of this Agreement';
  assert.equal(iso(normalizeDate(anniversary, { ...E, anchors: { AGREEMENT_DATE: '1998-01-26' } })), '1999-01-26');
});

test('effective-date clauses: the date after "effective/commence" is picked among several', () => {
  const E = { label: 'EFFECTIVE_DATE' };
  assert.equal(iso(normalizeDate('This Agreement is executed in duplicate on the 5th day of December, 2007, in Fort Worth, Texas, to be effective January 1, 2008.', E)), '2008-01-01');
  assert.equal(iso(normalizeDate('This promotion shall begin on June 1,1999 and shall terminate June 1, 2000 (herein "Term")', E)), '1999-06-01');
  assert.equal(iso(normalizeDate('(1st) day of January, 1996')), '1996-01-01');
  const reference = 'This Agreement shall become effective upon the date first written above and shall remain in full force and effect for a period of two years';
  assert.equal(iso(normalizeDate(reference, { ...E, anchors: { AGREEMENT_DATE: '2018-07-19' } })), '2018-07-19');
});
