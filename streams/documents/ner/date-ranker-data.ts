// Training data for the date ranker (date-ranker.ts): every date candidate of every contract of the
// Doccano gold (calendar dates, blank dates, effective sentences), on the text the pipeline sees (the
// page clean-up of analyze.ts), with its features and, per label, whether its value is one of the
// gold values the rules give that label (gold-values.ts; a gold answer the rules make no date of is
// matched by its folded text). models/documents/date_ranker.py fits the weights from it.
//
//   node streams/documents/ner/date-ranker-data.ts SPANS.jsonl SPLITS.json > date-candidates.jsonl
import { cleanedText, goldValues, readJsonLines, readSplits, type DoccanoDoc } from '../rules/gold-values.ts';
import { dateCandidates, textValue } from './date-ranker.ts';

const LABELS = ['AGREEMENT_DATE', 'EFFECTIVE_DATE', 'EXPIRATION_DATE'];

function main(): void {
  const [spansPath, splitsPath] = process.argv.slice(2);
  if (!spansPath || !splitsPath) {
    process.stderr.write('usage: date-ranker-data.ts SPANS.jsonl SPLITS.json\n');
    process.exit(2);
  }
  const splitOf = readSplits(splitsPath);
  let n = 0;
  for (const doc of readJsonLines<DoccanoDoc>(spansPath)) {
    const gold = goldValues(doc);
    const values: Record<string, string[]> = {};
    for (const label of LABELS) {
      // A gold answer the rules give no date (a blank "____, 2013", a clause) is matched by its text.
      values[label] = [...new Set(gold.entities.filter((e) => e.label === label).map((e) => e.normalized ?? textValue(e.text)))];
    }
    const text = cleanedText(doc);
    const candidates = dateCandidates(text).map((c) => ({
      iso: c.iso, features: c.features, gold: LABELS.filter((l) => values[l].includes(c.iso)),
    }));
    process.stdout.write(JSON.stringify({ id: doc.id, split: splitOf.get(doc.id) ?? 'unsplit', gold: values, candidates }) + '\n');
    if (++n % 50 === 0) process.stderr.write(`${n} contracts\n`);
  }
}

if (import.meta.main) main();
