// Does the text clean-up help NER? On the 100 CUAD PDFs: the share of CUAD's answer spans (parties,
// dates, governing law, document name: the texts the NER model is trained to find) that occur in
// the document text, before and after cleanPageTexts. A span interrupted by a running header, a
// page number or a hyphenated line break cannot be found (nor tagged as one entity).
// Whitespace is collapsed on both sides, so joined lines alone change nothing here.
//   node loadtest/ocr-text-cleanup-eval.ts [--out loadtest/results/ocr-text-cleanup-DATE.json]   (SHOW_MISSES=1: print the spans not found)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanPageTexts } from '../streams/documents/pages/clean-text.ts';
import { readPdfPages } from '../streams/documents/pages/read-pdf.ts';
import type { PageText } from '../streams/documents/pages/types.ts';

const { values: args } = parseArgs({ options: { out: { type: 'string' } } });
const CUAD = new URL('../../shared/data/cuad/', import.meta.url).pathname;
const COLUMNS = ['Document Name', 'Parties', 'Agreement Date', 'Effective Date', 'Expiration Date', 'Governing Law'];
const stem = (name: string) => name.replace(/\.(pdf|txt)$/i, '').toLowerCase().replace(/[^a-z0-9]/g, '');
const squash = (text: string) => text.replace(/\s+/gu, ' ').trim();

// master_clauses.csv holds each column's spans as a Python list literal: Python reads them.
const spansByStem: Record<string, Record<string, string[]>> = JSON.parse(
  execFileSync('python3', ['-c', `
import ast, csv, json, re, sys
csv.field_size_limit(10**9)
out = {}
for row in csv.DictReader(open(sys.argv[1], encoding='utf-8')):
    key = re.sub(r'[^a-z0-9]', '', re.sub(r'\\.(pdf|txt)$', '', row['Filename'], flags=re.I).lower())
    out[key] = {c: [s for s in ast.literal_eval(row[c] or '[]') if s.strip()] for c in ${JSON.stringify(COLUMNS)}}
print(json.dumps(out))
`, join(CUAD, 'master_clauses.csv')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
);

const totals = { spans: 0, foundRaw: 0, foundCleaned: 0, byColumn: {} as Record<string, { spans: number; raw: number; cleaned: number }> };
const lost: { file: string; column: string; span: string }[] = [];
let documents = 0;
for (const file of readdirSync(join(CUAD, 'full_contract_pdf')).sort()) {
  const spans = spansByStem[stem(file)];
  if (!spans) continue;
  let pages: (PageText | null)[];
  try {
    ({ pages } = await readPdfPages(readFileSync(join(CUAD, 'full_contract_pdf', file)), { maxPages: 10_000 }, { ocr: 'never' }));
  } catch (err) {
    console.error(`${file}: ${(err as Error).message}`);
    continue;
  }
  const raw = squash((pages as PageText[]).map((p) => p.text).join('\n\n'));
  const cleaned = squash(cleanPageTexts(pages as PageText[]).map((p) => p.text).join('\n\n'));
  documents++;
  for (const column of COLUMNS) {
    const c = (totals.byColumn[column] ??= { spans: 0, raw: 0, cleaned: 0 });
    for (const span of spans[column].map(squash)) {
      const inRaw = raw.includes(span);
      const inCleaned = cleaned.includes(span);
      totals.spans++;
      c.spans++;
      if (inRaw) (totals.foundRaw++, c.raw++);
      if (inCleaned) (totals.foundCleaned++, c.cleaned++);
      if (inRaw && !inCleaned) lost.push({ file, column, span });
      if (!inCleaned && process.env.SHOW_MISSES) console.log("miss", column, JSON.stringify(span.slice(0, 90)), "|", file.slice(0, 30));
    }
  }
}
const result = { documents, ...totals, lostByCleanup: lost };
console.log(JSON.stringify({ documents, spans: totals.spans, raw: totals.foundRaw / totals.spans, cleaned: totals.foundCleaned / totals.spans, lost: lost.length }, null, 1));
for (const [column, c] of Object.entries(totals.byColumn)) console.log(`${column}: ${c.spans} spans, raw ${(100 * c.raw / c.spans).toFixed(1)}%, cleaned ${(100 * c.cleaned / c.spans).toFixed(1)}%`);
for (const l of lost.slice(0, 15)) console.log('lost', l.column, JSON.stringify(l.span), l.file);
const out = args.out ?? `loadtest/results/ocr-text-cleanup-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(out, JSON.stringify({ command: 'node loadtest/ocr-text-cleanup-eval.ts', ...result }, null, 2) + '\n');
