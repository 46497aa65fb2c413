"""Doccano exchange for LexiScan's span annotations (sequence labelling, JSONL).

    python models/documents/doccano.py export [--in data/cuad-spans.jsonl] [--ids a,b | --split validation] --out for-doccano.jsonl
    python models/documents/doccano.py import DOCCANO_EXPORT.jsonl [--base data/cuad-spans.jsonl] [--out data/corrections.jsonl]

export: one Doccano import line per contract, {"text", "label": [[start, end, LABEL]], "document_id", ...meta};
Doccano keeps the extra keys as the example's metadata and gives its own integer "id", so our id
travels as "document_id".
import: reads Doccano's export (JSONL, or a JSON array) in either form, "label": [[s, e, l]] or
"entities"/"annotations": [{"start_offset", "end_offset", "label"}] ("labels" also read), finds each contract by document_id (or a
string "id"), checks every span against the text and the label set, and merges the corrected
label lists by id into --out (a record without document_id is matched by its unchanged text) (later corrections of a contract replace earlier ones).
annotate.py applies data/corrections.jsonl when it rebuilds cuad-spans.jsonl, so corrections
survive regeneration and train the next model. Bad input: every problem is listed (line, id,
span, why) and nothing is written unless --drop-invalid is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ('PARTY', 'AGREEMENT_DATE', 'EFFECTIVE_DATE', 'EXPIRATION_DATE', 'GOVERNING_LAW', 'AMOUNT',
          'TERMINATION_FOR_CONVENIENCE', 'TERMINATION_NOTICE_PERIOD', 'POST_TERMINATION_SERVICES')
# Keys Doccano adds to its export that are not our metadata.
_DOCCANO_KEYS = {'id', 'text', 'label', 'labels', 'entities', 'relations', 'Comments', 'comments', 'document_id', 'meta',
                 'annotation_approver', 'annotations', 'cats'}


class DoccanoFormatError(ValueError):
    """Bad Doccano input; `problems` lists every one found, each 'line N (id): why'."""

    def __init__(self, problems: list[str]):
        super().__init__(f'{len(problems)} problem(s) in the Doccano file:\n  ' + '\n  '.join(problems))
        self.problems = problems


def read_jsonl(path: Path) -> list[dict]:
    records = []
    with path.open(encoding='utf-8') as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise DoccanoFormatError([f'line {number}: not JSON ({error.msg})']) from None
    return records


def read_doccano(path: Path) -> list[tuple[int, dict]]:
    """(line or position, record) pairs; Doccano exports JSONL, older versions a JSON array."""
    raw = path.read_text(encoding='utf-8')
    if raw.lstrip().startswith('['):
        try:
            return list(enumerate(json.loads(raw), start=1))
        except json.JSONDecodeError as error:
            raise DoccanoFormatError([f'{path.name}: not a JSON array ({error.msg})']) from None
    out, problems = [], []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f'line {number}: not JSON ({error.msg})')
            continue
        if not isinstance(record, dict):
            problems.append(f'line {number}: a JSON object was expected, got {type(record).__name__}')
            continue
        out.append((number, record))
    if problems:
        raise DoccanoFormatError(problems)
    return out


def to_doccano(record: dict) -> dict:
    """Our record -> one Doccano import line."""
    meta = {k: v for k, v in record.get('meta', {}).items() if k not in _DOCCANO_KEYS}
    return {'text': record['text'], 'label': [list(span) for span in record['label']],
            'document_id': record['id'], **meta}


def spans_of(record: dict) -> list:
    """The spans of a Doccano record in any of its export forms (unchecked): "label" or "labels"
    ([[s, e, l]]), "entities" (1.6+) or "annotations" (1.0) ([{start_offset, end_offset, label}])."""
    for key in ('entities', 'annotations'):
        if key in record:
            items = record[key] or []
            if not isinstance(items, list):
                return items
            return [[e.get('start_offset'), e.get('end_offset'), e.get('label')] if isinstance(e, dict) else e
                    for e in items]
    return record.get('label', record.get('labels')) or []


def document_id_of(record: dict) -> str | None:
    for value in (record.get('document_id'), (record.get('meta') or {}).get('document_id'), record.get('id')):
        if isinstance(value, str) and value:
            return value
    return None


def check_spans(spans: list, text: str, labels: set[str], where: str) -> tuple[list[list], list[str]]:
    """(valid spans sorted, problems) for one record."""
    valid, problems = [], []
    for span in spans:
        if not (isinstance(span, (list, tuple)) and len(span) == 3):
            problems.append(f'{where}: span {span!r} is not [start, end, label]')
            continue
        start, end, label = span
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            problems.append(f'{where}: span {span!r}: start and end must be integers')
        elif not 0 <= start < end <= len(text):
            problems.append(f'{where}: span {span!r} is out of range (text has {len(text)} characters; need 0 <= start < end <= {len(text)})')
        elif label not in labels:
            problems.append(f'{where}: span {span!r}: unknown label {label!r} (known: {", ".join(sorted(labels))})')
        else:
            valid.append([start, end, label])
    return sorted({tuple(s) for s in valid}, key=lambda s: (s[0], s[1], s[2])), problems


def import_corrections(doccano: list[tuple[int, dict]], base: dict[str, dict], labels: set[str],
                       drop_invalid: bool = False) -> tuple[dict[str, dict], list[str]]:
    """Doccano export records -> our records by id (base meta kept, meta.corrected = True).
    Raises DoccanoFormatError with every problem unless drop_invalid (then the problems are
    returned as warnings and only the bad spans/records are left out)."""
    corrected: dict[str, dict] = {}
    problems: list[str] = []
    # Should a Doccano version drop the metadata, the unchanged text still names the contract.
    by_text = {r['text']: r['id'] for r in base.values()}
    for number, record in doccano:
        doc_id = document_id_of(record) or by_text.get(record.get('text'))
        where = f'line {number} ({doc_id or "no id"})'
        if doc_id is None:
            problems.append(f'{where}: no "document_id" (our contract id) in the record or its meta, and its text matches no contract')
            continue
        if doc_id not in base:
            problems.append(f'{where}: unknown document_id {doc_id!r} (not in the base annotations)')
            continue
        text = record.get('text')
        if text != base[doc_id]['text']:
            problems.append(f'{where}: "text" differs from the base annotations; offsets would point elsewhere')
            continue
        spans = spans_of(record)
        if not isinstance(spans, list):
            problems.append(f'{where}: "label"/"entities" must be a list')
            continue
        valid, span_problems = check_spans(spans, text, labels, where)
        problems += span_problems
        meta = dict(base[doc_id].get('meta', {}))
        meta['corrected'] = True
        corrected[doc_id] = {'id': doc_id, 'text': text, 'label': [list(s) for s in valid], 'meta': meta}
    if problems and not drop_invalid:
        raise DoccanoFormatError(problems)
    return corrected, problems


def write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open('w', encoding='utf-8') as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + '\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='Doccano export/import of LexiScan span annotations')
    sub = parser.add_subparsers(dest='command', required=True)
    exp = sub.add_parser('export', help='our JSONL -> Doccano import file')
    exp.add_argument('--in', dest='source', default=str(HERE / 'data' / 'cuad-spans.jsonl'))
    exp.add_argument('--ids', help='comma-separated contract ids (default: all)')
    exp.add_argument('--split', help='only this split (meta.split)')
    exp.add_argument('--out', required=True)
    imp = sub.add_parser('import', help='Doccano export -> corrections merged by id')
    imp.add_argument('doccano_file')
    imp.add_argument('--base', default=str(HERE / 'data' / 'cuad-spans.jsonl'), help='annotations the export was made from')
    imp.add_argument('--out', default=str(HERE / 'data' / 'corrections.jsonl'), help='merged by id (created if absent)')
    imp.add_argument('--drop-invalid', action='store_true', help='leave out bad spans/records instead of failing')
    args = parser.parse_args(argv)

    try:
        if args.command == 'export':
            records = read_jsonl(Path(args.source))
            if args.ids:
                wanted = set(args.ids.split(','))
                unknown = wanted - {r['id'] for r in records}
                if unknown:
                    parser.error(f'unknown ids: {", ".join(sorted(unknown))}')
                records = [r for r in records if r['id'] in wanted]
            if args.split:
                records = [r for r in records if r.get('meta', {}).get('split') == args.split]
            write_jsonl(Path(args.out), [to_doccano(r) for r in records])
            print(f'{len(records)} contracts -> {args.out}')
            return 0

        base = {r['id']: r for r in read_jsonl(Path(args.base))}
        corrected, warnings = import_corrections(read_doccano(Path(args.doccano_file)), base, set(LABELS),
                                                 args.drop_invalid)
        for warning in warnings:
            print(f'dropped: {warning}', file=sys.stderr)
        out = Path(args.out)
        merged = {r['id']: r for r in read_jsonl(out)} if out.exists() else {}
        merged.update(corrected)
        write_jsonl(out, [merged[k] for k in sorted(merged)])
        print(f'{len(corrected)} corrected contracts merged into {out} ({len(merged)} in all)')
        return 0
    except DoccanoFormatError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f'error: {error.filename}: no such file', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
