// Money amounts -> '1250.00 EUR': a number with an ISO 4217 code and the currency's minor units.
// An amount must carry a currency symbol, code or word; figures are read with their separators
// (US 1,250.00, European 1.250,00, Indian 5,00,000, Swiss 1'250.00) and a written-out amount next
// to the figures ("Ten Thousand Dollars ($10,000)") must agree with them.
import { findCurrencyMarkers, minorUnits, resolveCurrency } from './currencies.ts';
import { NUMBER_WORD_PATTERN, parseNumberWords } from './number-words.ts';

export interface NormalizedAmount {
  value: string; // '1250.00 EUR'
  amount: string; // '1250.00', a plain decimal string (exact: never passed through a float)
  currency: string; // ISO 4217
  notes: string[]; // assumptions made, e.g. '$' taken as USD
}
export type AmountResult = NormalizedAmount | { problem: string; notes: string[] };

const MULTIPLIERS: Record<string, number> = { thousand: 3, k: 3, million: 6, m: 6, mm: 6, mn: 6, mio: 6, billion: 9, bn: 9, b: 9 };
const FIGURE_RE = /(?<![\d.,])(\d(?:[\d,.'’\u2009\u202f]*\d)?)(?:\s?(thousand|million|billion|mio|mm|mn|bn|m|k|b)\b)?/gi;
const CURRENCY_WORD = `(?:(?:U\\.?S\\.?|United\\s+States|Canadian|Australian|Hong\\s+Kong|Singapore|New\\s+Zealand|Swiss|Japanese|Indian)\\s+)?(?:dollars?|euros?|pounds?(?:\\s+sterling)?|yen|francs?|rupees?|yuan|renminbi|RMB)`;
const WORDS_RE = new RegExp(`\\b(${NUMBER_WORD_PATTERN}(?:[\\s-]+(?:and\\s+)?${NUMBER_WORD_PATTERN})*)(?:\\s+and\\s+(\\d{1,2})\\s*/\\s*100)?\\s+(?:${CURRENCY_WORD})\\b`, 'gi');

// Currencies whose amounts are written with a decimal point (1,250.00) wherever they appear.
const DOT_DECIMAL = new Set(['USD', 'GBP', 'CNY', 'JPY', 'INR', 'CAD', 'AUD', 'HKD', 'SGD', 'NZD', 'TWD', 'KRW', 'ILS', 'MXN', 'CHF']);

interface Decimal { int: string; frac: string } // digits before and after the decimal point

/** Reads a figure's separators; a figure whose separators can be read two ways is a problem. */
export function parseFigure(raw: string, hasMultiplier: boolean, allowIndianGrouping = false, dotIsDecimal = false): Decimal | { problem: string } {
  const grouped = raw.replace(/['’\u2009\u202f]/g, (c) => (c === "'" || c === '’' ? ',' : ','));
  const commas = (grouped.match(/,/g) ?? []).length, dots = (grouped.match(/\./g) ?? []).length;
  const split = (decimalSep: string | null): Decimal | { problem: string } => {
    const groupSep = decimalSep === '.' ? ',' : '.';
    const [intPart, frac = ''] = decimalSep === null ? [grouped] : [grouped.slice(0, grouped.lastIndexOf(decimalSep)), grouped.slice(grouped.lastIndexOf(decimalSep) + 1)];
    const groups = intPart.split(decimalSep === null ? /[.,]/ : groupSep);
    const western = groups.length === 1 || (groups[0].length <= 3 && groups.slice(1).every((g) => g.length === 3));
    const indian = groups.length > 2 && groups[0].length <= 2 && groups.slice(1, -1).every((g) => g.length === 2) && groups[groups.length - 1].length === 3;
    if (indian && !western && !allowIndianGrouping) return { problem: `figure '${raw}' is grouped the Indian way (lakh) but the currency is not INR` };
    if (!western && !indian) return { problem: `unreadable figure '${raw}': digit groups do not match any convention` };
    if (intPart.includes(decimalSep ?? '\u0000') || /[.,]/.test(frac)) return { problem: `unreadable figure '${raw}'` };
    return { int: groups.join('').replace(/^0+(?=\d)/, ''), frac };
  };
  if (commas > 0 && dots > 0) return split(grouped.lastIndexOf('.') > grouped.lastIndexOf(',') ? '.' : ',');
  const sep = commas > 0 ? ',' : dots > 0 ? '.' : null;
  if (sep === null) return split(null);
  const count = sep === ',' ? commas : dots;
  const tail = grouped.slice(grouped.lastIndexOf(sep) + 1);
  if (count === 1 && tail.length !== 3) return split(sep); // 1,25 or 1.5: a decimal separator
  // "0.075" or "$14.575": a leading zero cannot start a thousands group, and dollar, pound, yen,
  // yuan and rupee amounts are written with a decimal point.
  if (count === 1 && sep === '.' && (/^0\./.test(grouped) || dotIsDecimal)) return split('.');
  if (count === 1 && sep === '.' && !hasMultiplier) {
    return { problem: `ambiguous figure '${raw}': '.' could be a decimal point or a thousands separator` };
  }
  if (count === 1 && hasMultiplier) return split(sep); // "1.250 million", "2,5 Mio"
  return split(null); // 1,000,000 / 1.000.000 / 5,00,000: grouping only
}

function scale(d: Decimal, pow10: number): Decimal {
  const digits = d.int + d.frac;
  const point = d.int.length + pow10;
  const padded = digits.padEnd(point, '0');
  return { int: padded.slice(0, point).replace(/^0+(?=\d)/, '') || '0', frac: padded.slice(point).replace(/0+$/, '') };
}

/** Pads to the currency's minor units; more decimals (a unit price of $0.0001) are kept, never rounded. */
function formatMinor(d: Decimal, digits: number): string {
  const significant = d.frac.replace(/0+$/, '');
  if (significant.length > digits) return `${d.int}.${significant}`;
  return digits === 0 ? d.int : `${d.int}.${d.frac.padEnd(digits, '0').slice(0, digits)}`;
}

/** Normalizes an amount entity's text to '<decimal> <ISO 4217>' or says why it cannot. */
export function normalizeAmount(text: string): AmountResult {
  const cleaned = text.replace(/[\u00a0]/g, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned === '') return { problem: 'empty amount', notes: [] };
  const markers = findCurrencyMarkers(cleaned);
  if (markers.length === 0 && /%|\bper\s?cent\b/i.test(cleaned)) return { problem: `a percentage, not an amount: '${cleaned}'`, notes: [] };
  const currency = resolveCurrency(markers);
  if ('problem' in currency) return { problem: `${currency.problem} in '${cleaned}'`, notes: [] };
  const notes = [...currency.notes];

  const words = [...cleaned.matchAll(WORDS_RE)]
    .map((m) => ({ text: m[0], value: parseNumberWords(m[1]), cents: m[2], start: m.index }))
    .filter((w) => w.value !== null && w.value > 0);
  // "Four and One-Half Million Dollars": the match is only the tail of a fraction these rules do
  // not read, so it is not compared with the figures.
  const partial = words.filter((w) => /(?:half|quarter|third|and|[-\/])\s*$/i.test(cleaned.slice(0, w.start)));
  for (const w of partial) notes.push(`amount in words not checked against the figures: '${cleaned.slice(Math.max(0, w.start - 30), w.start)}${w.text}'`);
  words.splice(0, words.length, ...words.filter((w) => !partial.includes(w)));
  // The "50/100" of "Five Thousand and 50/100 Dollars" belongs to the words, not to the figures.
  const figureText = cleaned.replace(WORDS_RE, (whole) => whole.replace(/\d/g, ' '));
  const figures: Decimal[] = [];
  FIGURE_RE.lastIndex = 0;
  for (let m = FIGURE_RE.exec(figureText); m !== null; m = FIGURE_RE.exec(figureText)) {
    const multiplier = m[2]?.toLowerCase();
    const parsed = parseFigure(m[1], multiplier !== undefined, currency.code === 'INR', DOT_DECIMAL.has(currency.code));
    if ('problem' in parsed) return { problem: parsed.problem, notes };
    figures.push(multiplier ? scale(parsed, MULTIPLIERS[multiplier]) : parsed);
    if (multiplier) notes.push(`'${m[0]}' scaled by ${multiplier}`);
  }
  const distinct = [...new Set(figures.map((f) => `${f.int}.${f.frac}`))];
  if (distinct.length > 1) return { problem: `several amounts in one entity: ${distinct.map((d) => d.replace(/\.$/, '')).join(', ')}`, notes };
  let amount: Decimal;
  if (figures.length > 0) {
    amount = figures[0];
    for (const w of words) {
      const fromWords = scale({ int: String(w.value), frac: w.cents ? w.cents.padStart(2, '0') : '' }, 0);
      if (fromWords.int !== amount.int || (w.cents !== undefined && fromWords.frac !== amount.frac.replace(/0+$/, ''))) {
        return { problem: `amount in words '${w.text}' (${w.value}${w.cents ? '.' + w.cents.padStart(2, '0') : ''}) differs from the figures (${amount.int}${amount.frac ? '.' + amount.frac : ''})`, notes };
      }
    }
  } else if (words.length > 0) {
    amount = { int: String(words[0].value), frac: words[0].cents ?? '' };
    notes.push(`read from words: '${words[0].text}'`);
  } else {
    return { problem: `no number in amount '${cleaned}'`, notes };
  }
  const digits = minorUnits(currency.code);
  const formatted = formatMinor(amount, digits);
  if (amount.frac.replace(/0+$/, '').length > digits) notes.push(`more decimals than the ${currency.code} minor unit (${digits}): kept as written, not rounded`);
  return { value: `${formatted} ${currency.code}`, amount: formatted, currency: currency.code, notes };
}
