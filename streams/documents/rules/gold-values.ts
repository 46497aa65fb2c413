// The validated values of gold annotations: the same rules the pipeline applies to the model's
// entities (validateDocument), applied to the Doccano JSONL gold of one split, so that
// models/documents/evaluate_pipeline.py can score values ("2019-03-01", "US-NY", a party's legal
// name) and not only the highlighted text character for character. CUAD highlights whole sentences
// for governing law and the expiry, and a party's role ("the Company") as well as its name: what a
// lawyer reads from the output is the value, so that is the measure the acceptance names.
//
//   node streams/documents/rules/gold-values.ts SPANS.jsonl SPLITS.json SPLIT > gold-values.jsonl
import { readFileSync } from 'node:fs';
import { cleanPageTexts } from '../pages/clean-text.ts';
import { validateDocument } from './validate.ts';
import type { NerEntity } from './types.ts';

export interface DoccanoDoc { id: string; text: string; label: [number, number, string][] }

/**
 * The records of a JSON lines file. Split on '\n' only: contract texts hold raw U+2028 and lone
 * CRs, which line readers also split on.
 */
export function readJsonLines<T = unknown>(path: string): T[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

/** Each contract id's split, from splits.json ({"train": [ids], ...}). */
export function readSplits(path: string): Map<string, string> {
  const splitOf = new Map<string, string>();
  for (const [split, ids] of Object.entries(JSON.parse(readFileSync(path, 'utf8')) as Record<string, string[]>)) {
    for (const id of ids) splitOf.set(id, split);
  }
  return splitOf;
}

/** A gold contract's text as the pipeline sees it (the page clean-up of analyze.ts): what the rankers' and classifiers' training data is cut from. */
export function cleanedText(doc: DoccanoDoc): string {
  return cleanPageTexts([{ page: 1, text: doc.text, source: 'text-file', ocrConfidence: null }])[0].text;
}

/** Doccano offsets are code points (Python); JS strings index UTF-16 units. */
function utf16Offsets(text: string): (cp: number) => number {
  const map: number[] = [0];
  let unit = 0;
  for (const ch of text) { unit += ch.length; map.push(unit); }
  return (cp) => map[cp];
}

/** A gold document's spans as entities of its text (UTF-16 offsets), in text order. */
export function goldEntities(doc: DoccanoDoc): NerEntity[] {
  const at = utf16Offsets(doc.text);
  return doc.label.map(([s, e, label]) => {
    const start = at(s), end = at(e);
    return { label, start, end, text: doc.text.slice(start, end), confidence: 1 };
  }).sort((a, b) => a.start - b.start);
}

export function goldValues(doc: DoccanoDoc): { id: string; entities: { label: string; text: string; normalized: string | null }[] } {
  const { entities: checked } = validateDocument(goldEntities(doc), doc.text);
  return { id: doc.id, entities: checked.map((c) => ({ label: c.label, text: c.text, normalized: c.normalized })) };
}

function main(): void {
  const [spansPath, splitsPath, split] = process.argv.slice(2);
  if (!spansPath || !splitsPath || !split) {
    process.stderr.write('usage: gold-values.ts SPANS.jsonl SPLITS.json SPLIT\n');
    process.exit(2);
  }
  const wanted = new Set<string>(JSON.parse(readFileSync(splitsPath, 'utf8'))[split] ?? []);
  if (wanted.size === 0) throw new Error(`split ${split} is empty or missing in ${splitsPath}`);
  let written = 0;
  for (const doc of readJsonLines<DoccanoDoc>(spansPath)) {
    if (!wanted.has(doc.id)) continue;
    process.stdout.write(JSON.stringify(goldValues(doc)) + '\n');
    written++;
  }
  if (written !== wanted.size) throw new Error(`${written} of the ${wanted.size} contracts of ${split} found in ${spansPath}`);
}

if (import.meta.main) main();
