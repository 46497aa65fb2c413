// Amount rules on figures as CUAD contracts write them (US, Chinese, Indian and European texts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAmount, type AmountResult } from './amounts.ts';

function value(result: AmountResult): string {
  assert.ok('value' in result, `expected an amount, got problem: ${'problem' in result ? result.problem : ''}`);
  return result.value;
}
function problem(result: AmountResult): string {
  assert.ok('problem' in result, `expected a problem, got ${JSON.stringify(result)}`);
  return result.problem;
}

test('figures with a symbol, code or word normalise to "<decimal> <ISO 4217>"', () => {
  const cases: [string, string][] = [
    ['$1,000,000', '1000000.00 USD'],
    ['US$ 5 million', '5000000.00 USD'],
    ['USD 2.5m', '2500000.00 USD'],
    ['$3.5MM', '3500000.00 USD'],
    ['$1.2 billion', '1200000000.00 USD'],
    ['EUR 1.250,00', '1250.00 EUR'],
    ['1.250.000,50 EUR', '1250000.50 EUR'],
    ['€ 2,500', '2500.00 EUR'],
    ['£10,000', '10000.00 GBP'],
    ['RMB 100,000', '100000.00 CNY'],
    ['RMB1,000', '1000.00 CNY'],
    ['JPY1,900', '1900 JPY'],
    ['¥ 250,000', '250000 JPY'],
    ['CHF 1\'250\'000.00', '1250000.00 CHF'],
    ['HK$500,000', '500000.00 HKD'],
    ['C$ 75,000', '75000.00 CAD'],
    ['$4,950.00 U.S.', '4950.00 USD'],
    ['one million US Dollars (US$1,000,000)', '1000000.00 USD'],
  ];
  for (const [text, expected] of cases) assert.equal(value(normalizeAmount(text)), expected, text);
});

test('minor units follow the currency: JPY has none, BHD three', () => {
  assert.equal(value(normalizeAmount('JPY 1,000')), '1000 JPY');
  assert.equal(value(normalizeAmount('BHD 12,500.125')), '12500.125 BHD');
  assert.equal(value(normalizeAmount('HUF 1,000')), '1000.00 HUF'); // ISO 4217 says 2 where CLDR displays 0
  assert.equal(value(normalizeAmount('IDR 1,000,000')), '1000000.00 IDR');
  // More decimals than the minor unit (unit prices) are kept as written, never rounded, and noted.
  const unitPrice = normalizeAmount('$0.0001');
  assert.ok('value' in unitPrice);
  assert.equal(unitPrice.value, '0.0001 USD');
  assert.match(unitPrice.notes.join(' '), /more decimals than the USD minor unit \(2\): kept as written/);
  assert.equal(value(normalizeAmount('¥1,000.50')), '1000.5 JPY');
});

test('"$" and "dollars" alone are USD by assumption, and the result says so', () => {
  const result = normalizeAmount('$100,000');
  assert.ok('value' in result);
  assert.equal(result.value, '100000.00 USD');
  assert.match(result.notes.join(' '), /assumed to be US dollars/);
  const explicit = normalizeAmount('US$100,000');
  assert.ok('value' in explicit);
  assert.deepEqual(explicit.notes, []);
  assert.equal(value(normalizeAmount('Ten Thousand Canadian dollars ($10,000)')), '10000.00 CAD');
});

test('"Rs." is INR by assumption, with Indian lakh grouping', () => {
  const result = normalizeAmount('Rs. 5,00,000');
  assert.ok('value' in result);
  assert.equal(result.value, '500000.00 INR');
  assert.match(result.notes.join(' '), /assumed to be Indian rupees/);
  assert.match(problem(normalizeAmount('$12,34,567')), /grouped the Indian way \(lakh\) but the currency is not INR/);
});

test('words beside figures must agree with them', () => {
  assert.equal(value(normalizeAmount('Ten Thousand Dollars ($10,000)')), '10000.00 USD');
  assert.equal(value(normalizeAmount('Two Million Five Hundred Thousand Dollars ($2,500,000)')), '2500000.00 USD');
  assert.equal(value(normalizeAmount('Five Thousand and 50/100 Dollars ($5,000.50)')), '5000.50 USD');
  const fraction = normalizeAmount('Four and One-Half Million Dollars ($4,500,000)'); // CUAD: not read, so not compared
  assert.ok('value' in fraction);
  assert.equal(fraction.value, '4500000.00 USD');
  assert.match(fraction.notes.join(' '), /not checked against the figures/);
  // A real CUAD sentence (Shuffle Master) whose words and figures differ.
  assert.match(problem(normalizeAmount('Four Thousand Nine Hundred Dollars ($4,950.00 U.S.)')), /in words .* \(4900\) differs from the figures \(4950\.00\)/);
});

test('an amount written only in words is read from the words', () => {
  const result = normalizeAmount('Eleven Thousand Dollars');
  assert.ok('value' in result);
  assert.equal(result.value, '11000.00 USD');
  assert.match(result.notes.join(' '), /read from words/);
});

test('rejections: no currency, no number, percentages, several amounts, conflicting currencies', () => {
  assert.match(problem(normalizeAmount('100,000')), /no currency symbol or code/);
  assert.match(problem(normalizeAmount('ABC 100')), /no currency symbol or code/); // three capitals, but no ISO 4217 code
  assert.match(problem(normalizeAmount('100 units')), /no currency symbol or code/);
  assert.match(problem(normalizeAmount('a reasonable fee in dollars')), /no number in amount/);
  assert.match(problem(normalizeAmount('10%')), /a percentage, not an amount/);
  assert.match(problem(normalizeAmount('$5,000 and $6,000')), /several amounts in one entity: 5000, 6000/);
  assert.match(problem(normalizeAmount('US$1,000,000 (EUR 900,000)')), /conflicting currencies: USD, EUR/);
  assert.match(problem(normalizeAmount('One Hundred Euros ($100)')), /conflicting currencies: EUR and '\$'/);
  assert.equal(value(normalizeAmount('PKR Rs. 50,000')), '50000.00 PKR'); // an explicit code settles the shared "Rs."
  assert.equal(value(normalizeAmount('RMB ¥ 5,000')), '5000.00 CNY');
  assert.match(problem(normalizeAmount('')), /empty amount/);
});

test('separators that can be read two ways are problems, not guesses', () => {
  assert.match(problem(normalizeAmount('EUR 1.250')), /ambiguous figure '1\.250'/);
  assert.equal(value(normalizeAmount('$14.575')), '14.575 USD'); // dollars are written with a decimal point
  assert.equal(value(normalizeAmount('$0.075')), '0.075 USD'); // no thousands group starts with 0
  assert.match(problem(normalizeAmount('$1,00,0')), /unreadable figure/);
  assert.equal(value(normalizeAmount('EUR 1,25')), '1.25 EUR'); // one comma and two digits: a decimal comma
  assert.equal(value(normalizeAmount('EUR 1.250 million')), '1250000.00 EUR');
});
