// Training data for the party ranker (party-ranker.ts): for each contract of a split, its party
// candidates with their features and whether the candidate's text is one of CUAD's party strings.
// The tagger's PARTY entities come from `documents extract --json` run on the split's .txt files
// (one page each, so their offsets index the cleaned text this script rebuilds).
//
//   node streams/documents/ner/party-ranker-data.ts SPANS.jsonl EXTRACT.jsonl > party-candidates.jsonl
import { basename } from 'node:path';
import { cleanedText, goldEntities, readJsonLines, type DoccanoDoc } from '../rules/gold-values.ts';
import { mentionKey } from './mentions.ts';
import type { NerEntity } from './ner.ts';
import { partyCandidates } from './party-ranker.ts';

/** models/documents/cuad_text.py normalised_stem: the contract id of a CUAD file name. */
export function normalisedStem(fileName: string): string {
  const name = fileName.trim().replace(/^['"]+|['"]+$/g, '').replace(/\.(pdf|txt)$/i, '');
  return name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

function main(): void {
  const [spansPath, extractPath] = process.argv.slice(2);
  if (!spansPath || !extractPath) {
    process.stderr.write('usage: party-ranker-data.ts SPANS.jsonl EXTRACT.jsonl\n');
    process.exit(2);
  }
  type Extracted = { file: string; entities: { label: string; text: string; confidence: number; page: number; start_offset: number; end_offset: number }[] };
  const extracted = new Map<string, Extracted>();
  for (const r of readJsonLines<Extracted>(extractPath)) extracted.set(normalisedStem(basename(r.file)), r);
  let written = 0;
  for (const doc of readJsonLines<DoccanoDoc>(spansPath)) {
    const result = extracted.get(doc.id);
    if (!result) continue;
    const text = cleanedText(doc);
    const tagged: NerEntity[] = result.entities.filter((e) => e.label === 'PARTY').map((e) => {
      if (text.slice(e.start_offset, e.end_offset) !== e.text) throw new Error(`${doc.id}: entity '${e.text}' is not at ${e.start_offset} of the cleaned text`);
      return { label: 'PARTY', start: e.start_offset, end: e.end_offset, text: e.text, confidence: e.confidence };
    });
    const gold = new Set(goldEntities(doc).filter((e) => e.label === 'PARTY').map((e) => mentionKey('PARTY', e.text)));
    gold.delete(mentionKey('PARTY', ''));
    const candidates = partyCandidates(text, tagged).map((c) => ({ text: c.text, features: c.features, gold: gold.has(c.key) }));
    process.stdout.write(JSON.stringify({ id: doc.id, gold: gold.size, candidates }) + '\n');
    written++;
  }
  if (written !== extracted.size) throw new Error(`${extracted.size - written} extracted files match no contract of ${spansPath}`);
}

if (import.meta.main) main();
