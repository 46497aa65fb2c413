// Numbers written out in words, as contracts spell them next to (or instead of) figures:
// "Ten Thousand", "one hundred and fifty", "twenty-one", "fifth", "Two Thousand Twenty".
// Integers only: contracts write fractions as figures ("Two and One-Half Million" is rare and
// is reported as unparseable rather than guessed).

const CARDINALS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60,
  seventy: 70, eighty: 80, ninety: 90, a: 1, an: 1,
};
const ORDINALS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9,
  tenth: 10, eleventh: 11, twelfth: 12, thirteenth: 13, fourteenth: 14, fifteenth: 15, sixteenth: 16,
  seventeenth: 17, eighteenth: 18, nineteenth: 19, twentieth: 20, thirtieth: 30,
};
const SCALES: Record<string, number> = { hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };

/** Every word this module understands, for building regular expressions that find number phrases. */
export const NUMBER_WORD_PATTERN =
  `(?:${[...Object.keys(CARDINALS).filter((w) => w.length > 2), ...Object.keys(ORDINALS), ...Object.keys(SCALES)]
    .sort((a, b) => b.length - a.length).join('|')})`;

/**
 * Parses an integer written in English words ("Two Million Five Hundred Thousand" -> 2500000,
 * "twenty-first" -> 21). Returns null when any word is not a number word, so callers never get
 * a partial reading of a phrase they did not understand.
 */
export function parseNumberWords(phrase: string): number | null {
  const words = phrase.toLowerCase().replace(/[-‐–]/g, ' ').split(/[\s,]+/).filter((w) => w !== '' && w !== 'and');
  if (words.length === 0) return null;
  let total = 0;
  let current = 0;
  let sawNumber = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const isLast = i === words.length - 1;
    if (word in CARDINALS) {
      // "a"/"an" only count as one when a scale follows ("a hundred"), never alone.
      if ((word === 'a' || word === 'an') && (isLast || !(words[i + 1] in SCALES))) return null;
      current += CARDINALS[word];
    } else if (word in ORDINALS && isLast) {
      current += ORDINALS[word];
    } else if (word.endsWith('th') && word.slice(0, -2) in SCALES && isLast) {
      current = (current || 1) * SCALES[word.slice(0, -2)]; // "hundredth"
    } else if (word === 'hundred') {
      current = (current || 1) * 100;
    } else if (word in SCALES) {
      total += (current || 1) * SCALES[word];
      current = 0;
    } else {
      return null;
    }
    sawNumber = true;
  }
  return sawNumber ? total + current : null;
}

/**
 * Years written out: "two thousand twenty", "nineteen hundred and ninety-nine" (through
 * parseNumberWords) and the spoken form "nineteen ninety-nine" (two groups of two digits).
 */
export function parseYearWords(phrase: string): number | null {
  const direct = parseNumberWords(phrase);
  if (direct !== null && direct >= 1000) return direct;
  const words = phrase.toLowerCase().replace(/[-‐–]/g, ' ').split(/\s+/).filter((w) => w !== '' && w !== 'and');
  for (let split = 1; split < words.length; split++) {
    const century = parseNumberWords(words.slice(0, split).join(' '));
    const rest = parseNumberWords(words.slice(split).join(' '));
    if (century !== null && rest !== null && century >= 10 && century <= 99 && rest >= 10 && rest <= 99) {
      return century * 100 + rest;
    }
  }
  return null;
}
