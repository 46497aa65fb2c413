"""doccano.py: export to Doccano, import of Doccano's two export forms, merge by id, bad input."""

import json
from pathlib import Path

import pytest

import doccano

TEXT_A = 'ACME INC. ("Supplier") and Beta LLC agree on May 8, 2014.'
TEXT_B = 'Governed by the laws of Delaware. Fee: $1,000.'
BASE = [
    {'id': 'contract-a', 'text': TEXT_A, 'label': [[0, 9, 'PARTY'], [12, 20, 'PARTY']],
     'meta': {'source': 'cuad', 'split': 'train', 'contract_type': 'supply'}},
    {'id': 'contract-b', 'text': TEXT_B, 'label': [[0, 33, 'GOVERNING_LAW']],
     'meta': {'source': 'cuad', 'split': 'test', 'contract_type': 'services'}},
]


@pytest.fixture()
def base_file(tmp_path: Path) -> Path:
    path = tmp_path / 'spans.jsonl'
    doccano.write_jsonl(path, BASE)
    return path


def _write(path: Path, records) -> Path:
    path.write_text(''.join(json.dumps(r) + '\n' for r in records), encoding='utf-8')
    return path


def test_export_then_import_round_trips_the_annotations(tmp_path, base_file):
    exported = tmp_path / 'for-doccano.jsonl'
    assert doccano.main(['export', '--in', str(base_file), '--out', str(exported)]) == 0
    lines = [json.loads(l) for l in exported.read_text().splitlines()]
    assert lines[0]['document_id'] == 'contract-a' and lines[0]['contract_type'] == 'supply'
    assert 'id' not in lines[0]  # Doccano assigns its own integer id
    # Doccano re-exports with its own ids; our id comes back as document_id.
    for number, line in enumerate(lines, start=1):
        line['id'] = number
    _write(exported, lines)
    out = tmp_path / 'corrections.jsonl'
    assert doccano.main(['import', str(exported), '--base', str(base_file), '--out', str(out)]) == 0
    back = {r['id']: r for r in doccano.read_jsonl(out)}
    for original in BASE:
        assert back[original['id']]['label'] == original['label']
        assert back[original['id']]['meta'] == {**original['meta'], 'corrected': True}


def test_import_reads_the_entities_form_and_merges_corrections_by_id(tmp_path, base_file):
    out = tmp_path / 'corrections.jsonl'
    first = _write(tmp_path / 'e1.jsonl', [{'id': 7, 'text': TEXT_B, 'document_id': 'contract-b', 'relations': [],
                                            'entities': [{'id': 1, 'start_offset': 39, 'end_offset': 45, 'label': 'AMOUNT'}]}])
    assert doccano.main(['import', str(first), '--base', str(base_file), '--out', str(out)]) == 0
    second = _write(tmp_path / 'e2.jsonl', [
        {'id': 8, 'text': TEXT_A, 'meta': {'document_id': 'contract-a'},
         'entities': [{'start_offset': 27, 'end_offset': 35, 'label': 'PARTY'}]},
        {'id': 9, 'text': TEXT_B, 'document_id': 'contract-b',
         'entities': [{'start_offset': 24, 'end_offset': 32, 'label': 'GOVERNING_LAW'},
                      {'start_offset': 39, 'end_offset': 45, 'label': 'AMOUNT'}]}])
    assert doccano.main(['import', str(second), '--base', str(base_file), '--out', str(out)]) == 0
    merged = {r['id']: r['label'] for r in doccano.read_jsonl(out)}
    assert merged == {'contract-a': [[27, 35, 'PARTY']],
                      'contract-b': [[24, 32, 'GOVERNING_LAW'], [39, 45, 'AMOUNT']]}
    assert TEXT_B[24:32] == 'Delaware' and TEXT_A[27:35] == 'Beta LLC'


@pytest.mark.parametrize('record, message', [
    ({'document_id': 'contract-a', 'text': TEXT_A, 'label': [[0, 999, 'PARTY']]}, 'out of range'),
    ({'document_id': 'contract-a', 'text': TEXT_A, 'label': [[5, 5, 'PARTY']]}, 'out of range'),
    ({'document_id': 'contract-a', 'text': TEXT_A, 'label': [[0, 9, 'PERSON']]}, "unknown label 'PERSON'"),
    ({'document_id': 'contract-a', 'text': TEXT_A, 'label': [['0', 9, 'PARTY']]}, 'must be integers'),
    ({'document_id': 'contract-a', 'text': TEXT_A, 'label': [[0, 9]]}, 'is not [start, end, label]'),
    ({'document_id': 'contract-a', 'text': TEXT_A, 'annotations': [{'start_offset': 0, 'end_offset': 9, 'label': 4}]},
     'unknown label 4'),
    ({'document_id': 'contract-a', 'text': TEXT_A + ' edited', 'label': []}, '"text" differs'),
    ({'document_id': 'contract-z', 'text': TEXT_A, 'label': []}, "unknown document_id 'contract-z'"),
    ({'id': 3, 'text': TEXT_A + ' edited', 'label': []}, 'no "document_id"'),
])
def test_bad_records_are_rejected_with_a_clear_message_and_nothing_written(tmp_path, base_file, capsys, record, message):
    bad = _write(tmp_path / 'bad.jsonl', [record])
    out = tmp_path / 'corrections.jsonl'
    assert doccano.main(['import', str(bad), '--base', str(base_file), '--out', str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_every_problem_is_listed_and_drop_invalid_keeps_the_good_spans(tmp_path, base_file, capsys):
    bad = _write(tmp_path / 'bad.jsonl', [{'document_id': 'contract-a', 'text': TEXT_A,
                                           'label': [[0, 9, 'PARTY'], [0, 999, 'PARTY'], [27, 35, 'CLIENT']]}])
    with pytest.raises(doccano.DoccanoFormatError) as error:
        doccano.import_corrections(doccano.read_doccano(bad), {r['id']: r for r in BASE}, set(doccano.LABELS))
    assert len(error.value.problems) == 2 and all(p.startswith('line 1 (contract-a)') for p in error.value.problems)
    out = tmp_path / 'corrections.jsonl'
    assert doccano.main(['import', str(bad), '--base', str(base_file), '--out', str(out), '--drop-invalid']) == 0
    assert doccano.read_jsonl(out)[0]['label'] == [[0, 9, 'PARTY']]
    assert capsys.readouterr().err.count('dropped:') == 2


def test_not_json_and_json_array_exports(tmp_path, base_file, capsys):
    broken = tmp_path / 'broken.jsonl'
    broken.write_text('{"document_id": "contract-a",\n', encoding='utf-8')
    assert doccano.main(['import', str(broken), '--base', str(base_file), '--out', str(tmp_path / 'o.jsonl')]) == 2
    assert 'line 1: not JSON' in capsys.readouterr().err
    array = tmp_path / 'export.json'
    array.write_text(json.dumps([{'id': 1, 'document_id': 'contract-a', 'text': TEXT_A, 'label': [[0, 9, 'PARTY']]}]))
    assert doccano.main(['import', str(array), '--base', str(base_file), '--out', str(tmp_path / 'o.jsonl')]) == 0


def test_labels_and_annotations_forms_of_older_doccano_versions(tmp_path, base_file):
    export = _write(tmp_path / 'export.jsonl', [
        {'id': 1, 'document_id': 'contract-a', 'text': TEXT_A, 'labels': [[27, 35, 'PARTY']]},
        {'id': 2, 'document_id': 'contract-b', 'text': TEXT_B,
         'annotations': [{'start_offset': 24, 'end_offset': 32, 'label': 'GOVERNING_LAW', 'user': 1}]}])
    out = tmp_path / 'corrections.jsonl'
    assert doccano.main(['import', str(export), '--base', str(base_file), '--out', str(out)]) == 0
    assert {r['id']: r['label'] for r in doccano.read_jsonl(out)} == {
        'contract-a': [[27, 35, 'PARTY']], 'contract-b': [[24, 32, 'GOVERNING_LAW']]}


def test_a_record_without_document_id_is_matched_by_its_text(tmp_path, base_file):
    export = _write(tmp_path / 'export.jsonl', [{'id': 12, 'text': TEXT_B, 'label': [[24, 32, 'GOVERNING_LAW']]}])
    out = tmp_path / 'corrections.jsonl'
    assert doccano.main(['import', str(export), '--base', str(base_file), '--out', str(out)]) == 0
    assert doccano.read_jsonl(out)[0]['id'] == 'contract-b'


def test_missing_file_is_an_error_not_a_crash(tmp_path, base_file, capsys):
    assert doccano.main(['import', str(tmp_path / 'nope.jsonl'), '--base', str(base_file)]) == 2
    assert 'no such file' in capsys.readouterr().err
