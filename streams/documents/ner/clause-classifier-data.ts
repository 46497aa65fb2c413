// Training data for the clause-sentence classifier (clause-classifier.ts): every sentence of every
// contract of the Doccano gold, cut by sentenceSpans on the text the pipeline sees (the page clean-up
// of analyze.ts), and per label the sentences a gold clause of that label overlaps. The clean-up can
// move offsets, so a gold clause is found again by its text with white space collapsed (or, failing
// that, by its first and last 60 characters); one found neither way is counted on stderr.
// models/documents/clause_classifier.py fits the model from it.
//
//   node streams/documents/ner/clause-classifier-data.ts SPANS.jsonl SPLITS.json > clause-sentences.jsonl
import { cleanedText, goldEntities, readJsonLines, readSplits, type DoccanoDoc } from '../rules/gold-values.ts';
import { sentenceSpans } from './clause-classifier.ts';

export const CLAUSE_CLASSIFIER_LABELS = ['TERMINATION_FOR_CONVENIENCE', 'TERMINATION_NOTICE_PERIOD', 'POST_TERMINATION_SERVICES'];
const EDGE = 60;

/** `text` with runs of white space as one space, and for each of its characters the offset in `text`. */
export function collapsed(text: string): { flat: string; at: number[] } {
  let flat = '';
  const at: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (/\s/.test(text[i])) {
      if (flat.endsWith(' ') || flat === '') continue;
      flat += ' ';
    } else flat += text[i];
    at.push(i);
  }
  return { flat, at };
}

/** Where `clause` stands in the cleaned text, or null. */
export function locateClause(cleaned: { flat: string; at: number[] }, clause: string): { start: number; end: number } | null {
  const needle = collapsed(clause.trim()).flat;
  if (!needle) return null;
  let from = cleaned.flat.indexOf(needle);
  let to = from + needle.length;
  if (from < 0 && needle.length > 2 * EDGE) {
    from = cleaned.flat.indexOf(needle.slice(0, EDGE));
    const tail = needle.slice(-EDGE);
    const last = from < 0 ? -1 : cleaned.flat.indexOf(tail, from);
    to = last + tail.length;
    if (last < 0 || last - from > 2 * needle.length) return null;
  }
  if (from < 0) return null;
  return { start: cleaned.at[from], end: cleaned.at[to - 1] + 1 };
}

function main(): void {
  const [spansPath, splitsPath] = process.argv.slice(2);
  if (!spansPath || !splitsPath) {
    process.stderr.write('usage: clause-classifier-data.ts SPANS.jsonl SPLITS.json\n');
    process.exit(2);
  }
  const splitOf = readSplits(splitsPath);
  let n = 0;
  let clauses = 0;
  let lost = 0;
  for (const doc of readJsonLines<DoccanoDoc>(spansPath)) {
    const text = cleanedText(doc);
    const sentences = sentenceSpans(text);
    const flat = collapsed(text);
    const golds = goldEntities(doc);
    const labels: Record<string, number[]> = {};
    for (const label of CLAUSE_CLASSIFIER_LABELS) {
      const hit = new Set<number>();
      for (const gold of golds) {
        if (gold.label !== label) continue;
        clauses++;
        const at = locateClause(flat, gold.text);
        if (!at) { lost++; continue; }
        sentences.forEach((sentence, j) => { if (sentence.start < at.end && at.start < sentence.end) hit.add(j); });
      }
      labels[label] = [...hit].sort((a, b) => a - b);
    }
    const texts = sentences.map((s) => text.slice(s.start, s.end));
    process.stdout.write(JSON.stringify({ id: doc.id, split: splitOf.get(doc.id) ?? 'unsplit', sentences: texts, labels }) + '\n');
    if (++n % 50 === 0) process.stderr.write(`${n} contracts\n`);
  }
  process.stderr.write(`${n} contracts; ${clauses} gold clauses, ${lost} not found in the cleaned text\n`);
}

if (import.meta.main) main();
