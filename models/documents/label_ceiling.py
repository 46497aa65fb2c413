"""How far CUAD's date answers can be reached (LexiScan #10): two upper bounds for the date labels,
measured on the annotations, not on any model.

    node streams/documents/ner/date-ranker-data.ts models/documents/data/cuad-spans.jsonl \\
        models/documents/splits.json > date-candidates.jsonl
    python models/documents/label_ceiling.py date-candidates.jsonl models/documents/data/cuad-spans.jsonl

1. Reach. The pipeline answers one value per label and contract, and only a value it can read (a
   date of the text, a blank date, an effective sentence: the ranker's candidates). A contract whose
   gold values are not among them, or that has two gold values, costs recall whatever the ranker
   does. Ceiling: every reachable contract answered right, nothing else answered.
2. Consistency of the effective date. CUAD answers a contract's effective date with its agreement
   date in some contracts and leaves it empty in others. Contracts are grouped by how their text
   uses the word "effective" (in the preamble; a quoted "Effective Date"; a phrase such as
   "effective as of"; not at all), and within a group the better of two fixed answers (the agreement
   date, or nothing) is taken; the contracts that choice gets wrong are counted as lost. A finer
   reading of the text could split some groups, so this bound is rough: it shows how often the same
   kind of wording was annotated both ways.

Writes a JSON report (stdout, or --out).
"""
from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

PREAMBLE = 2000
# Not EXPIRATION_DATE: its answers are mostly clauses, which the tagger finds, not these candidates.
LABELS = ['AGREEMENT_DATE', 'EFFECTIVE_DATE']


def effective_usage(text: str) -> str:
    """How a contract's text uses the word "effective". The twin of `effectiveUsage` in
    streams/documents/ner/date-ranker.ts (same patterns), plus 'absent', which the ranker reads from
    `eff_def:none`; this one reads the raw CUAD text, the ranker the page-cleaned text."""
    if re.search(r'\beffective\b', text[:PREAMBLE], re.I):
        return 'preamble'
    if re.search(r'["“]effective\s+date["”]', text, re.I):
        return 'defined'
    if re.search(r'\beffective\s+(?:date|as\s+of|on|upon|from|immediately)\b', text, re.I):
        return 'phrase'
    return 'incidental' if re.search(r'\beffective\b', text, re.I) else 'absent'


def answer_kind(doc: dict) -> str:
    """What CUAD answers for the effective date: nothing, the agreement date, another date, or a text."""
    effective, agreement = set(doc['gold']['EFFECTIVE_DATE']), set(doc['gold']['AGREEMENT_DATE'])
    if not effective:
        return 'empty'
    if effective <= agreement:
        return 'agreement_date'
    return 'text' if all(v.startswith('text:') for v in effective) else 'other_date'


def reach(docs: list[dict], label: str) -> dict:
    gold = sum(len(d['gold'][label]) for d in docs)
    reachable = sum(any(label in c['gold'] for c in d['candidates']) for d in docs)
    return {'contracts': len(docs), 'gold_values': gold, 'contracts_with_two_or_more': sum(len(d['gold'][label]) > 1 for d in docs),
            'contracts_reachable': reachable, 'ceiling_f1': round(2 * reachable / (reachable + gold), 4) if gold else None}


def consistency(docs: list[dict], texts: dict[str, str]) -> dict:
    """Per usage group, how CUAD answered; the contracts a fixed answer per group gets wrong; and the
    effective-date ceiling when those are lost and every other reachable contract is answered right."""
    table: dict[str, Counter] = {}
    for d in docs:
        table.setdefault(effective_usage(texts[d['id']]), Counter())[answer_kind(d)] += 1
    lost_recall = lost_precision = 0
    groups = {}
    for usage, counts in sorted(table.items()):
        answer = counts['agreement_date'] >= counts['empty']
        groups[usage] = dict(counts) | {'fixed_answer': 'agreement date' if answer else 'none'}
        if answer:
            lost_precision += counts['empty']  # answered where CUAD has nothing
        else:
            lost_recall += counts['agreement_date']  # nothing answered where CUAD has the agreement date
    effective = reach(docs, 'EFFECTIVE_DATE')
    tp = effective['contracts_reachable'] - lost_recall
    predicted = tp + lost_precision
    return {'groups': groups, 'wrong_by_fixed_answer': {'answered_where_empty': lost_precision, 'silent_where_agreement_date': lost_recall},
            'ceiling_f1': round(2 * tp / (predicted + effective['gold_values']), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('candidates', type=Path, help='date-ranker-data.ts output')
    ap.add_argument('spans', type=Path, help='Doccano JSONL with the texts (data/cuad-spans.jsonl)')
    ap.add_argument('--out', type=Path)
    a = ap.parse_args()
    docs = [json.loads(line) for line in a.candidates.read_text(encoding='utf-8').splitlines() if line.strip()]
    wanted = {d['id'] for d in docs}
    texts = {}
    with a.spans.open(encoding='utf-8') as f:
        for line in f:
            record = json.loads(line)
            if record['id'] in wanted:
                texts[record['id']] = record['text']
    splits = sorted({d['split'] for d in docs})
    report = {'reach': {s: {label: reach([d for d in docs if d['split'] == s], label) for label in LABELS} for s in splits},
              'effective_consistency': {s: consistency([d for d in docs if d['split'] == s], texts) for s in splits}}
    fit_on = [d for d in docs if d['split'] in ('train', 'validation')]
    report['effective_consistency']['train+validation'] = consistency(fit_on, texts)
    out = json.dumps(report, indent=1)
    if a.out:
        a.out.write_text(out + '\n')
    print(out)


if __name__ == '__main__':
    main()
