"""LexiScan NER metrics, per label: span-level F1 (exact, and overlap IoU >= 0.5) and document-level
set F1 over normalised entity texts. Shared by baseline_spacy.py and evaluate.py (the transformer),
so both models are scored by the same code.

Gold: our Doccano records ({'id', 'text', 'label': [[s, e, L]], 'meta'}); predictions: {id: [[s, e, L]]}.
A label listed in PARTIALLY_LABELLED is scored only on documents whose meta flag is true (AMOUNT is
hand-labelled in a sample; elsewhere an unlabelled amount is not a false positive).
"""

from __future__ import annotations

import re
from collections import defaultdict

PARTIALLY_LABELLED = {'AMOUNT': 'amount_labelled'}
TERMINATION_LABELS = ['TERMINATION_FOR_CONVENIENCE', 'TERMINATION_NOTICE_PERIOD', 'POST_TERMINATION_SERVICES']
_EDGE = ' \t\n"\'“”‘’.,;:()[]'


def normalise_entity_text(text: str) -> str:
    """casefold, whitespace runs -> one space, surrounding punctuation and quotes stripped."""
    return re.sub(r'\s+', ' ', text.casefold()).strip(_EDGE)


def _iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def greedy_matches(gold: list, pred: list, score, threshold: float) -> int:
    """One-to-one matches of gold and predicted items with score(g, p) >= threshold, best pairs
    first (greedy). score: IoU of spans here, text similarity in evaluate_pipeline.py."""
    pairs = sorted(((score(g, p), i, j) for i, g in enumerate(gold) for j, p in enumerate(pred)), reverse=True)
    used_g, used_p, matched = set(), set(), 0
    for value, i, j in pairs:
        if value < threshold:
            break
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
            matched += 1
    return matched


def _overlap_matches(gold: list[tuple[int, int]], pred: list[tuple[int, int]], threshold: float) -> int:
    """One-to-one matches with IoU >= threshold, best pairs first (greedy)."""
    return greedy_matches(gold, pred, _iou, threshold)


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {'precision': round(precision, 4), 'recall': round(recall, 4), 'f1': round(f1, 4),
            'tp': tp, 'pred': n_pred, 'gold': n_gold}


def evaluate(gold_docs: list[dict], predictions: dict[str, list], labels: list[str], iou: float = 0.5) -> dict:
    """{'per_label': {L: {'span_exact', 'span_overlap', 'document', 'documents_scored'}}, 'micro': {...},
    'macro_f1': {...}}. Prediction spans may carry extra fields after the label (e.g. a confidence)."""
    counts = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))  # [label][metric] -> [tp, pred, gold]
    documents = defaultdict(int)
    for doc in gold_docs:
        text, meta = doc['text'], doc.get('meta', {})
        pred_spans = predictions.get(doc['id'], [])
        for label in labels:
            flag = PARTIALLY_LABELLED.get(label)
            if flag and not meta.get(flag):
                continue
            documents[label] += 1
            gold = sorted({(s, e) for s, e, lab in doc['label'] if lab == label})
            pred = sorted({(int(p[0]), int(p[1])) for p in pred_spans if p[2] == label})
            exact = len(set(gold) & set(pred))
            overlap = _overlap_matches(gold, pred, iou)
            gold_texts = {normalise_entity_text(text[s:e]) for s, e in gold} - {''}
            pred_texts = {normalise_entity_text(text[s:e]) for s, e in pred} - {''}
            for metric, tp, n_pred, n_gold in (('span_exact', exact, len(pred), len(gold)),
                                               ('span_overlap', overlap, len(pred), len(gold)),
                                               ('document', len(gold_texts & pred_texts), len(pred_texts), len(gold_texts))):
                row = counts[label][metric]
                row[0] += tp
                row[1] += n_pred
                row[2] += n_gold
    per_label = {label: {metric: _prf(*counts[label][metric]) for metric in ('span_exact', 'span_overlap', 'document')}
                 | {'documents_scored': documents[label]} for label in labels}
    micro, macro = {}, {}
    for metric in ('span_exact', 'span_overlap', 'document'):
        totals = [sum(counts[label][metric][k] for label in labels) for k in range(3)]
        micro[metric] = _prf(*totals)
        scored = [per_label[label][metric]['f1'] for label in labels if counts[label][metric][2]]
        macro[metric] = round(sum(scored) / len(scored), 4) if scored else 0.0
    return {'per_label': per_label, 'micro': micro, 'macro_f1': macro, 'iou_threshold': iou}


def scored_docs(docs: list[dict], label: str) -> list[dict]:
    """The documents a label is scored on (a partially labelled label: only where it was labelled)."""
    flag = PARTIALLY_LABELLED.get(label)
    return [d for d in docs if not flag or d['meta'].get(flag)]


def detection(docs: list[dict], predictions: dict[str, list], labels: list[str], gold_key: str = 'spans') -> dict:
    """Per label, document-level detection: does the contract have at least one such clause?
    `predictions`: per document id, (start, end, label) triples; the gold triples are under `gold_key`."""
    out = {}
    for label in labels:
        tp = n_pred = n_gold = 0
        for d in scored_docs(docs, label):
            p = any(lab == label for _, _, lab in predictions.get(d['id'], []))
            g = any(lab == label for _, _, lab in d[gold_key])
            tp, n_pred, n_gold = tp + (p and g), n_pred + p, n_gold + g
        out[label] = _prf(tp, n_pred, n_gold)
    return out
