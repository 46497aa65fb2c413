"""LexiScan NER metrics and the evaluation of the exported ONNX graph on a split.

    # choose decision and review thresholds on validation, write them into model-meta.json
    python models/documents/evaluate.py --split validation --choose-thresholds
    # once, at the end: the test split with the thresholds of the meta
    python models/documents/evaluate.py --split test

Metrics: ner-data's metrics.py (the spaCy baseline is scored with the same code): per label,
span exact, span overlap (one-to-one, IoU >= 0.5) and document-level set F1 of normalised texts;
AMOUNT only on contracts with meta.amount_labelled. Added here: termination detection per type
(per contract, "has at least one such clause", predicted vs gold). Offsets are code points.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from chunking import WordPieces, run_chunks, spans_from_probabilities  # noqa: E402
from corpus import DEFAULT_DATA, DEFAULT_SPLITS, load_split  # noqa: E402
from metrics import TERMINATION_LABELS, detection, evaluate as score, normalise_entity_text, scored_docs  # noqa: E402  (ner-data's metrics, shared with the spaCy baseline)


def onnx_runner(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])
    return lambda ids, mask: tuple(session.run(['logits', 'type_logits'], {'input_ids': ids, 'attention_mask': mask}))


def run_split(docs: list[dict], model_path: Path, tokenizer: Path, meta: dict, threads: int) -> tuple[dict, dict]:
    """Word probabilities per document (decoded later with any thresholds) and the timing."""
    run = onnx_runner(model_path, threads)
    pieces = WordPieces(str(tokenizer))
    raw, tokens, t0 = {}, 0, time.time()
    for n, d in enumerate(docs):
        raw[d['id']] = run_chunks(d['text'], run, pieces, meta['max_length'], meta['stride'], batch_size=16)
        tokens += len(raw[d['id']]['tok'].ids)
        if n % 10 == 0:
            print(f'  {n}/{len(docs)} documents, {tokens / (time.time() - t0):.0f} tokens/s', flush=True)
    return raw, {'seconds': round(time.time() - t0, 1), 'tokens': tokens, 'tokens_per_second': round(tokens / (time.time() - t0), 1)}


def decode_all(docs, raw, meta, thresholds, extend=None) -> dict[str, list[tuple[int, int, str, float]]]:
    out = {}
    for d in docs:
        r = raw[d['id']]
        ents = [] if r['word_probs'] is None else spans_from_probabilities(d['text'], r['tok'], r['words'], r['word_probs'], meta['labels'], meta['tags'], thresholds, extend)
        out[d['id']] = [(e['start'], e['end'], e['label'], e['confidence']) for e in ents]
    return out


def strip_conf(pred):
    return {k: [(s, e, lab) for s, e, lab, _ in v] for k, v in pred.items()}


def is_defined(text: str, entity: str, first_start: int, window: int) -> bool:
    """A contract defines its parties: the name stands in the opening `window` characters (the
    preamble) or in quotes somewhere (("Licensee"), the "Company")."""
    return first_start < window or re.search(r'["“]\s*' + re.escape(entity) + r'\s*["”]', text) is not None


def merge_mentions(pred: dict[str, list], texts: dict[str, str], max_per_document: dict[str, int] | None = None,
                   defined_within: dict[str, int] | None = None) -> dict[str, list]:
    """What streams/documents/ner/mentions.ts does before the rules run: one prediction per
    document, label and normalised text (the first mention, with the best confidence); for a label
    in defined_within, only entities the contract defines (is_defined); then, for a label with a
    cap in max_per_document, only its most confident ones (earlier first on a tie)."""
    out = {}
    for doc_id, spans in pred.items():
        first: dict[tuple[str, str], list] = {}
        for s, e, lab, c in sorted(spans, key=lambda x: (x[0], x[1], x[2])):
            key = (lab, normalise_entity_text(texts[doc_id][s:e]))
            if not key[1]:
                continue
            if key in first:
                first[key][3] = max(first[key][3], c)
            else:
                first[key] = [s, e, lab, c]
        kept = list(first.values())
        for lab, window in (defined_within or {}).items():
            text = texts[doc_id]
            kept = [k for k in kept if k[2] != lab or is_defined(text, text[k[0]:k[1]], k[0], window)]
        for lab, cap in (max_per_document or {}).items():
            mine = [k for k in kept if k[2] == lab]
            if len(mine) > cap:
                drop = {id(k) for k in sorted(mine, key=lambda k: (-k[3], k[0]))[cap:]}
                kept = [k for k in kept if id(k) not in drop]
        out[doc_id] = [tuple(v) for v in kept]
    return out


DECISION_GRID = [round(x, 2) for x in np.arange(0.1, 0.91, 0.1)]
EXTEND_GRID = [0.05, 0.1, 0.2, 0.3, 0.5]
DEFINED_WITHIN_GRID = {'PARTY': [None, 1000, 2000, 3000, 5000]}  # characters of the preamble


def choose_thresholds(docs, raw, meta) -> dict:
    """Per label, on document-level F1 of the merged mentions (the tagger marks every mention of a
    party, so span precision against CUAD's one highlighted mention says little): the decision
    threshold, the extend threshold (hysteresis, <= decision) and whether to keep only the most
    confident entity per document (CUAD has at most one date of each kind and one governing-law
    clause per contract, but a cap is kept only where validation prefers it). Then the review
    threshold: the lowest confidence above which the kept entities' normalised texts are in the
    document's gold set with precision >= 0.9 (at least 5 entities), else 1.0 (always reviewed)."""
    texts = {d['id']: d['text'] for d in docs}
    chosen = {'decision_threshold': {}, 'extend_threshold': {}, 'max_per_document': {}, 'defined_within': {}, 'review_threshold': {}}
    for label in meta['labels']:
        best = None
        for t in DECISION_GRID:
            for low in sorted({t, *[x for x in EXTEND_GRID if x < t]}):
                decoded = decode_all(docs, raw, {**meta, 'labels': [label]}, {label: t}, {label: low})
                for cap in (None, 1):
                    for window in DEFINED_WITHIN_GRID.get(label, [None]):
                        pred = merge_mentions(decoded, texts, {label: cap} if cap else None, {label: window} if window else None)
                        f1 = score(docs, strip_conf(pred), [label])['per_label'][label]['document']['f1']
                        if best is None or f1 > best[0] + 1e-9:
                            best = (f1, t, low, cap, window, pred)
        f1, t, low, cap, window, pred = best
        print(f'{label:28s} decision {t} extend {low} cap {cap} defined within {window}: validation document F1 {f1:.3f}', flush=True)
        chosen['decision_threshold'][label], chosen['extend_threshold'][label] = float(t), float(low)
        if cap:
            chosen['max_per_document'][label] = cap
        if window:
            chosen['defined_within'][label] = window
        scored = []  # (confidence, correct)
        for d in scored_docs(docs, label):
            gold = {normalise_entity_text(d['text'][s:e]) for s, e, lab in d['spans'] if lab == label}
            scored += [(c, normalise_entity_text(d['text'][s:e]) in gold) for s, e, _, c in pred[d['id']]]
        scored.sort(reverse=True)
        chosen['review_threshold'][label] = 1.0
        hits = 0
        for n, (c, ok) in enumerate(scored, 1):
            hits += ok
            if n >= 5 and hits / n >= 0.9:
                chosen['review_threshold'][label] = round(c, 4)
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--split', choices=['validation', 'test'], required=True)
    ap.add_argument('--data', default=str(DEFAULT_DATA))
    ap.add_argument('--splits', default=str(DEFAULT_SPLITS))
    ap.add_argument('--artifacts', default=str(HERE / 'artifacts'))
    ap.add_argument('--model', default=None, help='ONNX file (default: artifacts/legal-ner.onnx)')
    ap.add_argument('--choose-thresholds', action='store_true', help='validation only: write decision/review thresholds into model-meta.json')
    ap.add_argument('--report', default=None, help='report JSON (default reports/ner-<split>[-<model stem>].json)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--limit', type=int, default=0, help='first N contracts only (smoke runs; never for reported numbers)')
    args = ap.parse_args()
    if args.choose_thresholds and args.split != 'validation':
        raise SystemExit('thresholds are chosen on validation only')
    artifacts = Path(args.artifacts)
    meta_path = artifacts / 'model-meta.json'
    meta = json.loads(meta_path.read_text())
    model_path = Path(args.model) if args.model else artifacts / 'legal-ner.onnx'
    docs = load_split(args.split, args.data, args.splits)
    if args.limit:
        docs = docs[:args.limit]
    print(f'{args.split}: {len(docs)} contracts, model {model_path.name}', flush=True)
    raw, timing = run_split(docs, model_path, artifacts / 'tokenizer.json', meta, args.threads)
    if args.choose_thresholds:
        meta.update(choose_thresholds(docs, raw, meta))
        meta_path.write_text(json.dumps(meta, indent=1) + '\n')
        print(f'thresholds written to {meta_path}')
    pred = merge_mentions(decode_all(docs, raw, meta, meta['decision_threshold'], meta.get('extend_threshold')),
                          {d['id']: d['text'] for d in docs}, meta.get('max_per_document'), meta.get('defined_within'))
    metrics = score(docs, strip_conf(pred), meta['labels'])
    metrics['termination_detection'] = detection(docs, strip_conf(pred), [lab for lab in TERMINATION_LABELS if lab in meta['labels']])
    types = [(d['meta'].get('contract_type'), meta['contract_types'][int(np.argmax(raw[d['id']]['type_probs']))]) for d in docs if raw[d['id']]['type_probs'] is not None]
    report = {'split': args.split, 'model': model_path.name, 'model_bytes': model_path.stat().st_size, 'contracts': len(docs),
              'model_version': meta['model_version'], 'decision_threshold': meta['decision_threshold'],
              'extend_threshold': meta.get('extend_threshold'), 'max_per_document': meta.get('max_per_document'),
              'defined_within': meta.get('defined_within'), 'timing': timing,
              'contract_type_accuracy': round(sum(a == b for a, b in types) / max(1, len(types)), 4), 'ner': metrics}
    default_name = f'ner-{args.split}' + ('' if model_path.name == 'legal-ner.onnx' else f'-{model_path.stem}') + '.json'
    out = Path(args.report) if args.report else HERE / 'reports' / default_name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + '\n')
    print(f'wrote {out}')
    for label in meta['labels']:
        m = metrics['per_label'][label]
        print(f"{label:28s} exact {m['span_exact']['f1']:.3f}  overlap {m['span_overlap']['f1']:.3f}  document {m['document']['f1']:.3f}")
    for label, m in metrics['termination_detection'].items():
        print(f"{label:28s} detection F1 {m['f1']:.3f} ({m['tp']}/{m['pred']} predicted, {m['gold']} gold contracts)")
    print(f"contract type accuracy {report['contract_type_accuracy']:.3f}")


if __name__ == '__main__':
    main()
