// Currency markers as contracts write them -> ISO 4217 codes. The code list and the minor units
// come from the runtime's ICU data (Intl.supportedValuesOf('currency'), Intl.NumberFormat), so no
// hand-kept table of 160 codes goes stale here; only the symbols and words are listed, and the 18
// minor units where CLDR's display digits differ from ISO 4217.

const ISO_CODES = new Set(Intl.supportedValuesOf('currency'));

export function isIsoCurrency(code: string): boolean {
  return ISO_CODES.has(code);
}

// Where CLDR's display digits differ from ISO 4217's minor unit (CLDR drops decimals nobody writes,
// e.g. HUF, IDR, PKR). Checked against ISO 4217 list one of 2024-06-25 (the data of npm currency-codes 2.2.0);
// every other code in Intl.supportedValuesOf('currency') agrees.
const ISO_MINOR_UNITS_WHERE_CLDR_DIFFERS: Record<string, number> = {
  AFN: 2, ALL: 2, COP: 2, HUF: 2, IDR: 2, IQD: 3, IRR: 2, KPW: 2, LAK: 2, LBP: 2, MGA: 2, MMK: 2,
  PKR: 2, SOS: 2, SYP: 2, XDR: 0, XSU: 0, YER: 2,
};

/** Decimal places of the currency's ISO 4217 minor unit: USD 2, JPY 0, BHD 3, PKR 2. */
export function minorUnits(code: string): number {
  return ISO_MINOR_UNITS_WHERE_CLDR_DIFFERS[code]
    ?? new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
}

export interface CurrencyMarker {
  start: number; end: number; text: string;
  code: string;
  /** A sign shared by several currencies ("$", "dollars", "¥", "Rs."): `code` is an assumption. */
  assumed: boolean;
  /** For a shared sign: the currencies it can stand for; an explicit one of these decides. */
  family?: string[];
  note?: string;
}

interface MarkerRule { re: RegExp; code: string; assumed?: true; note?: string; family?: string[] }

const DOLLAR_NOTE = "'$' and 'dollars' are assumed to be US dollars (USD)";
// More specific rules first: a later rule never claims text an earlier one matched ("US$" before "$").
const MARKER_RULES: MarkerRule[] = [
  { re: /\bU\.?\s?S\.?\s?\$|\bUSD\s?\$|\bU\.?\s?S\.?\s+dollars?\b|\bUnited\s+States\s+dollars?\b|\$\s?[\d,.]+(?:\s*(?:million|billion|thousand))?\s+U\.?S\.?(?![a-z])/gi, code: 'USD' },
  { re: /\b(?:CA|CDN|Cdn|C)\$|\bCanadian\s+dollars?\b/g, code: 'CAD' },
  { re: /\b(?:AU|A)\$|\bAustralian\s+dollars?\b/gi, code: 'AUD' },
  { re: /\bHK\$|\bHong\s+Kong\s+dollars?\b/gi, code: 'HKD' },
  { re: /\bS\$|\bSingapore\s+dollars?\b/gi, code: 'SGD' },
  { re: /\bNZ\$|\bNew\s+Zealand\s+dollars?\b/gi, code: 'NZD' },
  { re: /\bNT\$|\bNew\s+Taiwan\s+dollars?\b/gi, code: 'TWD' },
  { re: /\bR\$/g, code: 'BRL' },
  { re: /\bMX\$|\bMexican\s+pesos?\b/gi, code: 'MXN' },
  { re: /\bRMB\s?¥?|\brenminbi\b|\byuan\b/gi, code: 'CNY', note: 'RMB (renminbi) is ISO 4217 CNY' },
  { re: /€|\beuros?\b/gi, code: 'EUR' },
  { re: /£|\bpounds?\s+sterling\b|\bsterling\b|\bBritish\s+pounds?\b/gi, code: 'GBP' },
  { re: /\bJapanese\s+yen\b|\byen\b/gi, code: 'JPY' },
  { re: /₹|\bIndian\s+rupees?\b/gi, code: 'INR' },
  { re: /\bSwiss\s+francs?\b|\bSFr\.?/gi, code: 'CHF' },
  { re: /₩/g, code: 'KRW' },
  { re: /₽/g, code: 'RUB' },
  { re: /₪|\bNIS\b|\bnew\s+(?:israeli\s+)?shekels?\b/gi, code: 'ILS' },
  { re: /¥/g, code: 'JPY', assumed: true, family: ['JPY', 'CNY'], note: "'¥' is assumed to be Japanese yen (JPY); it also marks the Chinese yuan (CNY)" },
  { re: /\bRs\.?(?=\s?\d)|\brupees?\b/gi, code: 'INR', assumed: true, family: ['INR', 'PKR', 'LKR', 'NPR', 'MUR', 'SCR'], note: "'Rs.' is assumed to be Indian rupees (INR); Pakistan, Sri Lanka and Nepal write rupees the same way" },
  { re: /\$|\bdollars?\b/gi, code: 'USD', assumed: true, note: DOLLAR_NOTE, family: ['USD', 'CAD', 'AUD', 'HKD', 'SGD', 'NZD', 'TWD', 'BRL', 'MXN', 'BMD', 'BSD', 'KYD', 'JMD', 'TTD', 'FJD', 'LRD', 'NAD', 'ZWL'] },
];
// ISO codes count only next to a figure, so words like "ALL" (the Albanian lek) or "CUP" are not currencies.
const CODE_BEFORE = /\b([A-Z]{3})(?=\s?(?:[\d$€£¥₹]|Rs\.?\s?\d))/g;
const CODE_AFTER = /(?<=\d\s?(?:million|billion|thousand|m|k|bn)?\s?)\b([A-Z]{3})\b/gi;

/** Every currency marker in the text, in text order; overlapping weaker markers are dropped. */
export function findCurrencyMarkers(text: string): CurrencyMarker[] {
  const markers: CurrencyMarker[] = [];
  const claimed = (s: number, e: number) => markers.some((m) => s < m.end && e > m.start);
  const add = (start: number, end: number, matched: string, code: string, assumed: boolean, note?: string, family?: string[]) => {
    if (!claimed(start, end)) markers.push({ start, end, text: matched, code, assumed, note, family });
  };
  for (const re of [CODE_BEFORE, CODE_AFTER]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const code = m[1];
      if (code === code.toUpperCase() && isIsoCurrency(code)) add(m.index, m.index + code.length, code, code, false);
    }
  }
  for (const rule of MARKER_RULES) {
    rule.re.lastIndex = 0;
    for (let m = rule.re.exec(text); m !== null; m = rule.re.exec(text)) {
      add(m.index, m.index + m[0].length, m[0], rule.code, rule.assumed === true, rule.note, rule.family);
    }
  }
  return markers.sort((a, b) => a.start - b.start);
}

/**
 * One currency for the amount: explicit markers decide ("US$", "EUR", "Canadian dollars"); a
 * shared sign alone ("$", "dollars") falls back to its assumed code and says so in a note.
 */
export function resolveCurrency(markers: CurrencyMarker[]): { code: string; notes: string[] } | { problem: string } {
  const explicit = [...new Set(markers.filter((m) => !m.assumed).map((m) => m.code))];
  if (explicit.length > 1) return { problem: `conflicting currencies: ${explicit.join(', ')}` };
  const notes = [...new Set(markers.filter((m) => m.note && (!m.assumed || explicit.length === 0)).map((m) => m.note as string))];
  if (explicit.length === 1) {
    // "$" beside "Canadian dollars" is the Canadian dollar; "$" beside "EUR" is a contradiction.
    const clash = markers.find((m) => m.assumed && !(m.family ?? [m.code]).includes(explicit[0]));
    if (clash) return { problem: `conflicting currencies: ${explicit[0]} and '${clash.text}'` };
    return { code: explicit[0], notes };
  }
  const assumed = [...new Set(markers.map((m) => m.code))];
  if (assumed.length === 0) return { problem: 'no currency symbol or code' };
  if (assumed.length > 1) return { problem: `conflicting currencies: ${assumed.join(', ')}` };
  return { code: assumed[0], notes };
}
