// The day/month order of a document's numeric dates. A date whose first number is above 12
// (13/04/2020) can only be day-first; one whose second number is above 12 (04/13/2020) only
// month-first. When a document's unambiguous dates agree, its ambiguous ones (03/04/2020) are read
// the same way; otherwise the US order applies and ambiguous dates stay flagged.
import type { DateOrder } from './dates.ts';

export function inferDateOrder(text: string): { order: DateOrder; source: string; settled: boolean } {
  let dayFirst = 0, monthFirst = 0;
  for (const m of text.matchAll(/\b(\d{1,2})\/(\d{1,2})\/(?:\d{4}|\d{2})\b/g)) {
    const a = Number(m[1]), b = Number(m[2]);
    if (a > 12 && a <= 31 && b >= 1 && b <= 12) dayFirst++;
    if (b > 12 && b <= 31 && a >= 1 && a <= 12) monthFirst++;
  }
  if (dayFirst > 0 && monthFirst === 0) return { order: 'DMY', source: `${dayFirst} other date(s) in the document can only be day/month`, settled: true };
  if (monthFirst > 0 && dayFirst === 0) return { order: 'MDY', source: `${monthFirst} other date(s) in the document can only be month/day`, settled: true };
  const why = dayFirst > 0 ? 'the document mixes day/month and month/day dates' : 'no date in the document decides the order';
  return { order: 'MDY', source: `US default (${why})`, settled: false };
}
