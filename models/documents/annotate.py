"""Make span annotations (Doccano JSONL) for LexiScan from CUAD's contract texts and answer lists.

    python models/documents/annotate.py [--cuad ../shared/data/cuad] [--out models/documents/data]

Reads full_contract_txt/*.txt, full_contract_pdf/ (only which contracts have a PDF) and
master_clauses.csv; writes data/cuad-spans.jsonl (one line per contract), data/locate-report.json
(locate rate per label, unmatched files) and, when absent, splits.json. Deterministic: same input,
same bytes out. The occurrence rule is described in notes-data.md ("Annotations").
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cuad_text import (contract_type_of, find_all, normalise_query,  # noqa: E402
                       normalise_with_offsets, normalised_stem)

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_CUAD = '../shared/data/cuad'  # relative to the repository root
SPLIT_SEED = 10
SPLIT_FRACTIONS = {'train': 0.70, 'validation': 0.15, 'test': 0.15}
# Of the contracts with a PDF (the OCR-path evaluation set), these go to test / validation.
PDF_TEST, PDF_VALIDATION = 20, 15

COLUMN_LABELS = {
    'Parties': 'PARTY',
    'Agreement Date': 'AGREEMENT_DATE',
    'Effective Date': 'EFFECTIVE_DATE',
    'Expiration Date': 'EXPIRATION_DATE',
    'Governing Law': 'GOVERNING_LAW',
    'Termination For Convenience': 'TERMINATION_FOR_CONVENIENCE',
    'Notice Period To Terminate Renewal': 'TERMINATION_NOTICE_PERIOD',
    'Post-Termination Services': 'POST_TERMINATION_SERVICES',
}
LABELS = [*COLUMN_LABELS.values(), 'AMOUNT']

# CUAD's Parties lists sometimes hold a whole sentence ('each, a "Party" and collectively, the
# "Parties")') or a name with its definition ('At Home Corporation ("Excite@Home" or "Excite")').
# The model should tag names, so a PARTY answer becomes the names in it: the quoted defined terms
# and a capitalised name before the first quote; generic words ("Party", "we") and prose are dropped.
_GENERIC_PARTY = re.compile(r'(?i)(the )?(part(y|ies)|we|us|you|your|our|each|collectively|both)')
_PROSE = re.compile(r'(?i)\b(part(y|ies)|collectively|referred to|hereinafter|herein|each|are|is|together)\b')
_QUOTED = re.compile(r'"([^"]{1,80})"?')
_NAME_EDGE = ' \t"\',;:()[]'  # not '.': "Inc." and "L.P." end with one


def _strip_name(text: str) -> str:
    text = text.strip(_NAME_EDGE)
    # '"Parties."' -> 'Parties', but 'Cisco Systems, Inc.' keeps its abbreviation dot.
    if text.endswith('.') and text.count('.') == 1:
        text = text[:-1].strip(_NAME_EDGE)
    return text


def party_names(part: str) -> list[str]:
    names: list[str] = []
    if '"' in part:
        head = _strip_name(part[:part.index('"')])
        if head and head[0].isupper() and len(head.split()) <= 8 and not _PROSE.search(head):
            names.append(head)
        for quoted in _QUOTED.findall(part):
            quoted = _strip_name(quoted)
            if len(quoted) >= 2 and quoted[0].isupper() and not _GENERIC_PARTY.fullmatch(quoted):
                names.append(quoted)
        return names
    part = part.strip(_NAME_EDGE)  # unquoted names keep a final dot ('Ltd.')
    if len(part.split()) > 12 or (_PROSE.search(part) and len(part.split()) > 3) or _GENERIC_PARTY.fullmatch(part):
        return []
    return [part] if len(part) >= 2 else []


def answer_parts(label: str, answer: str) -> tuple[list[str], str | None]:
    """The span texts to search for one CUAD answer string, or ([], reason) when it is dropped.
    CUAD joins non-adjacent highlights of one answer with '<omitted>'."""
    parts = [p.strip() for p in normalise_query(answer).split('<omitted>')]
    parts = [p for p in parts if len(p) >= 2]
    if label != 'PARTY':
        return parts, None
    kept = [name for part in parts for name in party_names(part)]
    return kept, (None if kept else 'no party name in the answer')


def _is_defining(text: str, start: int, end: int) -> bool:
    """True when the occurrence is quoted, as in ("Company") or (the "Distributor")."""
    before, after = text[max(0, start - 1):start], text[end:end + 1]
    return before in ('"', "'") and after in ('"', "'")


def locate(norm_text: str, part: str, label: str, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Normalised [start, end) of the occurrence of `part` that CUAD's highlight most likely is.

    CUAD lists each highlighted text once and gives no offsets. Annotators highlight the defining
    mention (the preamble, or for short role names the quoted definition such as ("Company")),
    so: the first occurrence, except for PARTY where a quoted occurrence wins; never one that
    overlaps a span of the same label already placed (longer answers are placed first, so the
    'CC-Pharming' inside 'Beijing CC-Pharming Ltd.' is skipped)."""
    for ignore_case, bounded in ((False, True), (True, True), (True, False)):
        starts = find_all(norm_text, part, ignore_case=ignore_case, word_bounded=bounded)
        free = [s for s in starts if all(s + len(part) <= a or s >= b for a, b in taken)]
        if not free:
            continue
        if label == 'PARTY':
            quoted = [s for s in free if _is_defining(norm_text, s, s + len(part))]
            if quoted:
                return quoted[0], quoted[0] + len(part)
        return free[0], free[0] + len(part)
    return None


def annotate_contract(text: str, row: dict[str, str], stats: dict) -> list[list]:
    norm = normalise_with_offsets(text)
    spans: list[list] = []
    for column, label in COLUMN_LABELS.items():
        answers = ast.literal_eval(row[column]) if row[column].strip() else []
        parts: list[str] = []
        for answer in answers:
            found, dropped = answer_parts(label, answer)
            if dropped:
                stats['dropped'][label] += 1
            parts += found
        taken: list[tuple[int, int]] = []
        for part in sorted(dict.fromkeys(parts), key=lambda p: (-len(p), p)):
            stats['parts'][label] += 1
            where = locate(norm.text, part, label, taken)
            if where is None:
                stats['missing'][label] += 1
                if len(stats['missing_examples'][label]) < 8:
                    stats['missing_examples'][label].append(part[:120])
                continue
            stats['located'][label] += 1
            taken.append(where)
            # Occurrences of the same text left unlabelled (the effect of labelling one mention).
            total = len(find_all(norm.text, norm.text[where[0]:where[1]], ignore_case=False, word_bounded=True))
            stats['other_occurrences'][label] += max(0, total - 1)
            start, end = norm.original_span(*where)
            spans.append([start, end, label])
    return sorted(spans, key=lambda s: (s[0], s[1], s[2]))


def make_splits(stems: list[str], types: dict[str, str], with_pdf: set[str]) -> dict[str, list[str]]:
    """By contract, fixed seed. PDF contracts and the rest are split separately (test gets PDF_TEST
    of the PDFs); inside each group, contracts sorted by type and then randomly are dealt to the
    split furthest below its share, which spreads every type over the three splits."""
    rng = random.Random(SPLIT_SEED)
    out: dict[str, list[str]] = {name: [] for name in SPLIT_FRACTIONS}

    def deal(group: list[str], targets: dict[str, float]) -> None:
        keyed = sorted(group, key=lambda s: (types[s], rng.random()))
        counts = Counter()
        for index, stem in enumerate(keyed, start=1):
            split = max(targets, key=lambda n: (targets[n] * index - counts[n], -list(targets).index(n)))
            counts[split] += 1
            out[split].append(stem)

    pdf = sorted(s for s in stems if s in with_pdf)
    rest = sorted(s for s in stems if s not in with_pdf)
    n = len(pdf)
    if n >= 2 * (PDF_TEST + PDF_VALIDATION):
        deal(pdf, {'train': (n - PDF_TEST - PDF_VALIDATION) / n, 'validation': PDF_VALIDATION / n, 'test': PDF_TEST / n})
    else:  # too few PDFs for the quotas (small test corpora): the usual shares
        deal(pdf, SPLIT_FRACTIONS)
    deal(rest, SPLIT_FRACTIONS)
    return {name: sorted(v) for name, v in out.items()}


def load_by_id(path: Path) -> dict[str, dict]:
    """Records of a Doccano JSONL file by id ({} when the file does not exist)."""
    if not path.exists():
        return {}
    by_id = {}
    for line in path.read_text(encoding='utf-8').splitlines():
        if line.strip():
            record = json.loads(line)
            by_id[record['id']] = record
    return by_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cuad', default=DEFAULT_CUAD, help='CUAD folder (relative paths: from the repo root)')
    parser.add_argument('--out', default=str(HERE / 'data'), help='output folder')
    parser.add_argument('--splits', default=str(HERE / 'splits.json'))
    parser.add_argument('--new-splits', action='store_true', help='rewrite splits.json even if it exists')
    args = parser.parse_args(argv)
    cuad = Path(args.cuad) if Path(args.cuad).is_absolute() else REPO_ROOT / args.cuad
    csv_path, txt_dir, pdf_dir = cuad / 'master_clauses.csv', cuad / 'full_contract_txt', cuad / 'full_contract_pdf'
    if not csv_path.is_file() or not txt_dir.is_dir():
        parser.error(f'{cuad} has no master_clauses.csv or full_contract_txt/ (pass --cuad DIR)')
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with csv_path.open(newline='', encoding='utf-8') as handle:
        rows = {normalised_stem(r['Filename']): r for r in csv.DictReader(handle)}
    texts = {normalised_stem(p.name): p for p in sorted(txt_dir.glob('*.txt'))}
    pdfs = {normalised_stem(p.name) for p in pdf_dir.glob('*')} if pdf_dir.is_dir() else set()
    stems = sorted(set(rows) & set(texts))
    unmatched = {'csv_without_txt': sorted(set(rows) - set(texts)), 'txt_without_csv': sorted(set(texts) - set(rows)),
                 'pdf_without_txt': sorted(pdfs - set(texts))}

    types = {}
    type_sources = Counter()
    for stem in stems:
        types[stem], source = contract_type_of(rows[stem]['Filename'], rows[stem].get('Document Name-Answer', ''))
        type_sources[source] += 1

    splits_path = Path(args.splits)
    if splits_path.exists() and not args.new_splits:
        splits = json.loads(splits_path.read_text(encoding='utf-8'))
        missing = set(stems) - {s for v in splits.values() for s in v}
        if missing:
            parser.error(f'{len(missing)} contracts are in no split of {splits_path} (use --new-splits): {sorted(missing)[:5]}')
    else:
        splits = make_splits(stems, types, pdfs)
        splits_path.write_text(json.dumps(splits, indent=1) + '\n', encoding='utf-8')
    split_of = {s: name for name, v in splits.items() for s in v}

    amounts = load_by_id(out / 'amount-labels.jsonl')
    # Corrections imported from Doccano (doccano.py import) replace a contract's generated spans.
    corrections = load_by_id(out / 'corrections.jsonl')
    stats = {k: Counter() for k in ('parts', 'located', 'missing', 'dropped', 'other_occurrences')}
    stats['missing_examples'] = defaultdict(list)
    span_counts: dict[str, Counter] = defaultdict(Counter)
    # Written aside and renamed: a training run reading the file meanwhile sees the old or the new one.
    partial = out / 'cuad-spans.jsonl.partial'
    with partial.open('w', encoding='utf-8') as handle:
        for stem in stems:
            text = texts[stem].read_text(encoding='utf-8')
            spans = annotate_contract(text, rows[stem], stats)
            meta = {'source': 'cuad', 'split': split_of[stem], 'contract_type': types[stem],
                    'file': texts[stem].name, 'has_pdf': stem in pdfs, 'amount_labelled': stem in amounts}
            if stem in amounts:
                labelled = amounts[stem]
                if labelled['text'] != text:
                    parser.error(f'amount-labels.jsonl: text of {stem} differs from {texts[stem].name}')
                spans = sorted(spans + [list(s) for s in labelled['label']], key=lambda s: (s[0], s[1], s[2]))
            if stem in corrections:
                if corrections[stem]['text'] != text:
                    parser.error(f'corrections.jsonl: text of {stem} differs from {texts[stem].name}')
                spans = [list(s) for s in corrections[stem]['label']]
                meta['corrected'] = True
                meta['amount_labelled'] = bool(corrections[stem].get('meta', {}).get('amount_labelled', meta['amount_labelled']))
            for _, _, label in spans:
                span_counts[split_of[stem]][label] += 1
            record = {'id': stem, 'text': text, 'label': spans, 'meta': meta}
            handle.write(json.dumps(record, ensure_ascii=False) + '\n')

    os.replace(partial, out / 'cuad-spans.jsonl')
    report = {
        'contracts': len(stems), 'unmatched_files': unmatched, 'contract_types': dict(sorted(Counter(types.values()).items())),
        'contract_type_source': dict(type_sources), 'amount_labelled_contracts': len(set(amounts) & set(stems)), 'corrected_contracts': len(set(corrections) & set(stems)),
        'split_sizes': {k: len(v) for k, v in splits.items()},
        'split_pdf_contracts': {k: len(set(v) & pdfs) for k, v in splits.items()},
        'locate': {label: {'answer_parts': stats['parts'][label], 'located': stats['located'][label],
                           'rate': round(stats['located'][label] / stats['parts'][label], 4) if stats['parts'][label] else None,
                           'dropped_answers': stats['dropped'][label],
                           'unlabelled_repeats_of_labelled_text': stats['other_occurrences'][label],
                           'missing_examples': stats['missing_examples'][label]}
                   for label in COLUMN_LABELS.values()},
        'spans_per_split': {k: dict(sorted(v.items())) for k, v in sorted(span_counts.items())},
    }
    (out / 'locate-report.json').write_text(json.dumps(report, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    for label, row in report['locate'].items():
        print(f"{label:30s} located {row['located']:5d}/{row['answer_parts']:5d} ({row['rate']})")
    print('unmatched:', {k: len(v) for k, v in unmatched.items()}, 'splits:', report['split_sizes'],
          'pdf per split:', report['split_pdf_contracts'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
