// Which jurisdiction's law governs: found in a governing-law clause and mapped to a code (see
// jurisdictions.ts). Mentions inside "the laws of ..." (or "<X> law") count; courts, venues and
// addresses named in the same clause do not. A country drops out when one of its own
// subdivisions is named ("the State of New York and the United States" is New York law).
import { JURISDICTIONS, jurisdictionByCode, type Jurisdiction } from './jurisdictions.ts';

export type GoverningLawResult =
  | { jurisdiction: string; name: string; country: string; notes: string[] }
  | { problem: string; candidates: Jurisdiction[]; notes: string[] };

interface Mention { start: number; end: number; text: string; codes: string[] }

const NAME_RES = JURISDICTIONS.names.map((n) => ({
  ...n,
  // Abbreviations like "UK", "USA", "PRC" must match in capitals; names match in any case.
  re: new RegExp(`(?<![\\w.])${n.pattern}(?![\\w])`, /^[A-Z\\.?]+$/.test(n.pattern.replace(/\\\./g, '')) ? 'g' : 'gi'),
}));

function findMentions(text: string): Mention[] {
  const all: Mention[] = [];
  for (const n of NAME_RES) {
    n.re.lastIndex = 0;
    for (let m = n.re.exec(text); m !== null; m = n.re.exec(text)) {
      if (n.adjective && !/^\s+law\b/i.test(text.slice(m.index + m[0].length))) continue;
      const same = all.find((x) => x.start === m!.index && x.end === m!.index + m[0].length);
      if (same) { if (!same.codes.includes(n.code)) same.codes.push(n.code); continue; }
      all.push({ start: m.index, end: m.index + m[0].length, text: m[0], codes: [n.code] });
    }
  }
  // Longest mention wins where they overlap: "New Jersey" over "Jersey", "England and Wales" over "Wales".
  const kept: Mention[] = [];
  for (const m of all.sort((a, b) => (b.end - b.start) - (a.end - a.start))) {
    if (!kept.some((k) => m.start < k.end && m.end > k.start)) kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** A mention inside "the laws of ..." or right before "law", and not in a courts/venue phrase. */
function inLawContext(text: string, m: Mention): boolean {
  if (/^\s+(?:law|laws)\b/i.test(text.slice(m.end))) return true;
  const before = text.slice(Math.max(0, m.start - 120), m.start);
  const law = /\b(?:laws?|legislation)\b(?![\s\S]*\b(?:laws?|legislation)\b)/i.exec(before);
  if (law === null) return false;
  // "a corporation organized under the laws of Poland" is where a party was formed, not the governing law.
  if (/\b(?:formed|organi[sz]ed|incorporated|existing|registered)\s+(?:and\s+existing\s+)?under\s+(?:the\s+)?$/i.test(before.slice(0, law.index))) return false;
  const between = before.slice(law.index);
  return !/\b(?:courts?|jurisdiction|venue|forum|arbitrat\w*|located|offices?|principal place|seated|resident)\b|[.;:]\s/i.test(between);
}

function chooseCode(text: string, m: Mention, notes: string[]): string {
  if (m.codes.length === 1) return m.codes[0];
  // "Georgia": the US state unless the clause says "Republic of Georgia".
  const country = m.codes.find((c) => c.length === 2);
  const subdivision = m.codes.find((c) => c.length > 2) ?? m.codes[0];
  if (country && /republic of\s+$/i.test(text.slice(Math.max(0, m.start - 20), m.start))) return country;
  notes.push(`'${m.text}' read as ${jurisdictionByCode(subdivision)?.name}; it also names ${m.codes.filter((c) => c !== subdivision).map((c) => jurisdictionByCode(c)?.name).join(', ')}`);
  return subdivision;
}

/** Maps a governing-law clause to one jurisdiction, or says why it cannot (none, or several). */
export function normalizeGoverningLaw(clauseText: string): GoverningLawResult {
  // PDF text layers glue words ("the laws ofthe State ofTexas").
  const text = clauseText.replace(/[\u00a0]/g, ' ').replace(/\bof(?=the\b|[A-Z])/g, 'of ').replace(/\s+/g, ' ').trim();
  const notes: string[] = [];
  const mentions = findMentions(text);
  let governing = mentions.filter((m) => inLawContext(text, m));
  if (governing.length === 0 && mentions.length > 0 && text.length <= 60 && !/\blaws?\b|\bcourts?\b|\bjurisdiction\b|\bvenue\b/i.test(text)) {
    governing = mentions; // a bare answer span like "Delaware" or "Ontario, Canada"
  }
  const named = [...new Set(mentions.map((m) => m.codes.join('|')))];
  if (governing.length === 0 && named.length === 1 && /\blaws?\s+(?:thereof|of\s+(?:said|such|that)\s+(?:state|country|province|jurisdiction))\b/i.test(text)) {
    governing = mentions; // "accepted in the State of Nevada and governed by the laws thereof"
    notes.push(`'the laws thereof' refers to ${mentions[0].text}, the only place named`);
  }
  if (governing.length === 0) {
    const courtsOnly = mentions.length > 0 ? ` (only courts or places named: ${[...new Set(mentions.map((m) => m.text))].join(', ')})` : '';
    return { problem: `no governing-law jurisdiction found${courtsOnly}`, candidates: [], notes };
  }
  let codes = [...new Set(governing.map((m) => chooseCode(text, m, notes)))];
  // Federal law alongside a state's, or "Ontario, Canada": the subdivision is the jurisdiction.
  const absorbed = codes.filter((c) => c.length === 2 && codes.some((o) => o !== c && jurisdictionByCode(o)?.country === c));
  if (absorbed.length > 0) notes.push(`${absorbed.join(', ')} named alongside its own subdivision: the subdivision governs`);
  codes = codes.filter((c) => !absorbed.includes(c));
  const candidates = codes.map((c) => jurisdictionByCode(c) as Jurisdiction);
  if (codes.includes('GB-EAW') && governing.some((m) => /^(?:England|English)$/i.test(m.text))) {
    notes.push('English law is the law of England and Wales, one jurisdiction (GB-EAW)');
  }
  if (codes.includes('GB')) notes.push('the United Kingdom has three legal systems (England and Wales, Scotland, Northern Ireland); the clause names none');
  if (candidates.length > 1) {
    return { problem: `several jurisdictions named: ${candidates.map((c) => `${c.code} (${c.name})`).join(', ')}`, candidates, notes };
  }
  const [only] = candidates;
  return { jurisdiction: only.code, name: only.name, country: only.country, notes };
}
