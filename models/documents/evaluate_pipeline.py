"""Scores the shipped TypeScript pipeline (`streamscore documents extract --json`) against the CUAD
gold of one split, at document level: per label, the set of entity texts a document has. Span
offsets cannot be compared across paths (OCR text is not the gold text), so this is the measure
that holds the text-layer path and the OCR path to the same standard. For the termination types it
also reports detection per contract ("has at least one such clause"), as evaluate.py does.

Two matchings, both one-to-one per document and label, over normalised texts (metrics.py:
casefold, whitespace runs to one space, surrounding quotes/punctuation stripped):
  - exact:  equal normalised texts (metrics.py's `document` metric);
  - fuzzy:  difflib similarity >= --similarity (default 0.8), greedy best pairs first: an OCR'd
            'lnc.' for 'Inc.' or a clause cut one word short still counts; reported beside exact.
And with --gold-values (streams/documents/rules/gold-values.ts: the pipeline's own rules applied to
the gold spans) a third, the one a lawyer reads:
  - value:  equal validated values per document and label: the ISO date, the jurisdiction code
            (US-NY), the party's legal name a role links to, the amount with its currency; an
            entity without a value (the rules could not make one) counts by its normalised text.
            So 'the Company' and 'Acme Corp.' are one party, and a governing-law clause is right
            when it names the right jurisdiction, however much of the sentence it spans.

    streamscore documents extract --json --ocr never FILE... > text.jsonl
    python models/documents/evaluate_pipeline.py text.jsonl --split test --out reports/pipeline-text.json
A file is matched to its contract by normalised stem (cuad_text.normalised_stem).
"""
from __future__ import annotations

import argparse
import difflib
import json
from collections import defaultdict
from pathlib import Path

from corpus import ALL_LABELS, DEFAULT_DATA, DEFAULT_SPLITS, PARTIALLY_LABELLED, load_split
from cuad_text import normalised_stem
from metrics import TERMINATION_LABELS, _prf, detection, greedy_matches, normalise_entity_text


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def score(gold_docs: list[dict], predicted: dict[str, list[dict]], labels: list[str], threshold: float) -> dict:
    counts = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for doc in gold_docs:
        entities = predicted[doc['id']]
        for label in labels:
            flag = PARTIALLY_LABELLED.get(label)
            if flag and not doc['meta'].get(flag):
                continue
            gold = sorted({normalise_entity_text(doc['text'][s:e]) for s, e, lab in doc['label'] if lab == label} - {''})
            pred = sorted({normalise_entity_text(e['text']) for e in entities if e['label'] == label} - {''})
            for metric, tp in (('exact', len(set(gold) & set(pred))), ('fuzzy', greedy_matches(gold, pred, similarity, threshold))):
                row = counts[label][metric]
                row[0] += tp
                row[1] += len(pred)
                row[2] += len(gold)
    return {label: {m: _prf(*counts[label][m]) for m in ('exact', 'fuzzy')} for label in labels}


def entity_value(e: dict) -> str:
    return normalise_entity_text(e['normalized'] if e.get('normalized') else e['text'])


def score_values(gold_values: dict[str, list[dict]], gold_docs: list[dict], predicted: dict[str, list[dict]], labels: list[str]) -> dict:
    """Per label, document-level set F1 of validated values (see the module docstring)."""
    counts = defaultdict(lambda: [0, 0, 0])
    for doc in gold_docs:
        for label in labels:
            flag = PARTIALLY_LABELLED.get(label)
            if flag and not doc['meta'].get(flag):
                continue
            gold = {entity_value(e) for e in gold_values[doc['id']] if e['label'] == label} - {''}
            pred = {entity_value(e) for e in predicted[doc['id']] if e['label'] == label} - {''}
            row = counts[label]
            row[0] += len(gold & pred)
            row[1] += len(pred)
            row[2] += len(gold)
    return {label: _prf(*counts[label]) for label in labels}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('predictions', type=Path, nargs='?', help='JSON lines of `documents extract --json`')
    ap.add_argument('--print-files', choices=['txt', 'pdf'], help="print the split's contract files of that kind (one path a line) and stop")
    ap.add_argument('--cuad', type=Path, default=Path(__file__).resolve().parents[3] / 'shared' / 'data' / 'cuad', help='CUAD folder (default ../shared/data/cuad next to the repository)')
    ap.add_argument('--split', default='test')
    ap.add_argument('--data', type=Path, default=DEFAULT_DATA)
    ap.add_argument('--splits', type=Path, default=DEFAULT_SPLITS)
    ap.add_argument('--similarity', type=float, default=0.8)
    ap.add_argument('--out', type=Path)
    ap.add_argument('--gold-values', type=Path, help='JSON lines of streams/documents/rules/gold-values.ts for this split: adds the value metric')
    a = ap.parse_args()
    if a.print_files:
        wanted = set(json.loads(a.splits.read_text())[a.split])
        folder = a.cuad / ('full_contract_txt' if a.print_files == 'txt' else 'full_contract_pdf')
        for f in sorted(folder.iterdir()):
            if normalised_stem(f.name) in wanted:
                print(f)
        return
    if not a.predictions:
        ap.error('PREDICTIONS is required unless --print-files')
    docs = {d['id']: d for d in load_split(a.split, a.data, a.splits)}
    predicted: dict[str, list[dict]] = {}
    failed = []
    for line in a.predictions.read_text(encoding='utf-8').split('\n'):
        if not line.strip():
            continue
        r = json.loads(line)
        stem = normalised_stem(Path(r['file']).name)
        if stem not in docs:
            raise SystemExit(f"{r['file']}: not a contract of split {a.split!r} (stem {stem})")
        if 'error' in r:
            failed.append({'file': r['file'], 'error': r['error']})
            predicted[stem] = []
        else:
            predicted[stem] = r['entities']
    gold = [docs[s] for s in predicted]
    labels = [l for l in ALL_LABELS if any(lab == l for d in gold for _, _, lab in d['label'])]
    result = {'split': a.split, 'documents': len(gold), 'failed': failed, 'similarity': a.similarity,
              'per_label': score(gold, predicted, labels, a.similarity)}
    triples = {stem: [(0, 0, e['label']) for e in entities] for stem, entities in predicted.items()}
    result['termination_detection'] = detection(gold, triples, [l for l in TERMINATION_LABELS if l in labels], gold_key='label')
    if a.gold_values:
        values = {}
        for line in a.gold_values.read_text(encoding='utf-8').split('\n'):
            if line.strip():
                r = json.loads(line)
                values[r['id']] = r['entities']
        missing = [d['id'] for d in gold if d['id'] not in values]
        if missing:
            raise SystemExit(f'{a.gold_values}: no gold values for {len(missing)} contracts, e.g. {missing[0]} (made for another split?)')
        for label, m in score_values(values, gold, predicted, labels).items():
            result['per_label'][label]['value'] = m
    for label, m in result['per_label'].items():
        value = f"   value F1 {m['value']['f1']:.3f} (P {m['value']['precision']:.3f} R {m['value']['recall']:.3f})" if 'value' in m else ''
        print(f"{label:30s} exact F1 {m['exact']['f1']:.3f} (P {m['exact']['precision']:.3f} R {m['exact']['recall']:.3f})   fuzzy F1 {m['fuzzy']['f1']:.3f}{value}   gold {m['exact']['gold']}")
    for label, m in result['termination_detection'].items():
        print(f"{label:30s} detection F1 {m['f1']:.3f} (P {m['precision']:.3f} R {m['recall']:.3f}; {m['tp']} of {m['pred']} predicted, {m['gold']} contracts with one)")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1) + '\n')


if __name__ == '__main__':
    main()
