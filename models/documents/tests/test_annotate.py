"""annotate.py / cuad_text.py: locating CUAD answers in contract texts, ids, types, splits."""

import csv
import json
from pathlib import Path

import pytest

import annotate
from cuad_text import contract_type_of, normalise_with_offsets, normalised_stem

HERE = Path(__file__).resolve().parents[1]
REAL_CUAD = HERE.parents[1] / '..' / 'shared' / 'data' / 'cuad'


def test_normalised_offsets_map_back_to_the_original_text():
    original = '  Governed by\n\n the  laws of\tNew York.'
    norm = normalise_with_offsets(original)
    assert norm.text == 'Governed by the laws of New York.'
    start = norm.text.index('the laws of New York')
    s, e = norm.original_span(start, start + len('the laws of New York'))
    assert original[s:e] == 'the  laws of\tNew York'


def test_stems_match_across_spellings_of_the_same_file():
    assert normalised_stem('LECLANCHÉ S.A. - JOINT DEV.PDF') == normalised_stem('LECLANCHE\u0301 S.A. - JOINT DEV.txt')
    assert normalised_stem("KALLOINC_11_03_2011-EX-10.1-AGREEMENT.PDF'") == normalised_stem('KALLOINC_11_03_2011-EX-10.1-AGREEMENT.txt')
    assert normalised_stem('A_B Agreement.pdf') == 'a-b-agreement'


@pytest.mark.parametrize('file_name, expected', [
    ('ABILITYINC_06_15_2020-EX-4.25-SERVICES AGREEMENT.txt', 'services'),
    ('DeltathreeInc_19991102_S-1A_EX-10.19_6227850_EX-10.19_Co-Branding Agreement_ Service Agreement.pdf', 'co-branding'),
    ('X_01_01_2000-EX-10.1-TRANSPORTATION SERVICES AGREEMENT.PDF', 'transportation'),
    ('X_01_01_2000-EX-10.1-LICENSE AND HOSTING AGREEMENT.PDF', 'hosting'),
    ('Y_20190101_10-K_EX-10.1_123_EX-10.1_Content License Agreement.pdf', 'license'),
    ('Sonos, Inc. - Manufacturing Agreement .pdf', 'manufacturing'),
    ('Z_01_01_2000-EX-99.1-JOINT FILING AGREEMENT.PDF', 'joint-venture'),
])
def test_contract_type_from_the_file_name(file_name, expected):
    assert contract_type_of(file_name)[0] == expected


def test_party_names_drop_prose_and_keep_defined_terms():
    assert annotate.answer_parts('PARTY', 'each, a "Party" and collectively, the "Parties")') == ([], 'no party name in the answer')
    assert annotate.answer_parts('PARTY', 'At Home Corporation ("Excite@Home" or "Excite")')[0] == ['At Home Corporation', 'Excite@Home', 'Excite']
    assert annotate.answer_parts('PARTY', 'Cisco Systems, Inc.')[0] == ['Cisco Systems, Inc.']
    assert annotate.answer_parts('PARTY', 'the "Sponsor"')[0] == ['Sponsor']


def test_omitted_joins_are_searched_as_separate_parts():
    parts, _ = annotate.answer_parts('EFFECTIVE_DATE', 'The term begins on signature<omitted>August 08, 2018')
    assert parts == ['The term begins on signature', 'August 08, 2018']


def test_locate_prefers_the_quoted_definition_and_respects_word_boundaries():
    text = 'The Company agrees. MAYFLOWER LTD ("Company") and Marketing Affiliate ("MA"). MA shall pay.'
    norm = normalise_with_offsets(text)
    start, end = annotate.locate(norm.text, 'Company', 'PARTY', [])
    assert norm.text[start - 1:end + 1] == '"Company"'
    start, _ = annotate.locate(norm.text, 'MA', 'PARTY', [])
    assert norm.text[start - 1] == '"'  # not the 'MA' inside 'MAYFLOWER'
    # A date is the first occurrence, whatever the quoting.
    assert annotate.locate(norm.text, 'agrees', 'AGREEMENT_DATE', []) == (text.index('agrees'), text.index('agrees') + 6)


def _fake_cuad(root: Path, rows: list[dict], texts: dict[str, str], pdfs: list[str]) -> Path:
    (root / 'full_contract_txt').mkdir(parents=True)
    (root / 'full_contract_pdf').mkdir()
    for name, text in texts.items():
        (root / 'full_contract_txt' / name).write_text(text, encoding='utf-8')
    for name in pdfs:
        (root / 'full_contract_pdf' / name).write_bytes(b'%PDF-1.4')
    columns = ['Filename', 'Document Name-Answer', *annotate.COLUMN_LABELS]
    with (root / 'master_clauses.csv').open('w', newline='', encoding='utf-8') as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, '[]') for c in columns})
    return root


def test_main_writes_doccano_spans_at_original_offsets_and_is_deterministic(tmp_path):
    text = ('SUPPLY AGREEMENT\n\nThis Agreement is made on May 8,\n2014 between ACME\nINC. ("Supplier") and Beta LLC '
            '("Buyer").\nThis Agreement shall be governed by the laws of the State of Nevada.\nACME INC. signs.')
    rows = [{'Filename': 'ACME_05_08_2014-EX-10.1-SUPPLY AGREEMENT.PDF',
             'Parties': str(['ACME INC.', 'Supplier', 'Beta LLC', 'Buyer', 'each a "Party"']),
             'Agreement Date': str(['May 8, 2014']),
             'Governing Law': str(['This Agreement shall be governed by the laws of the State of Nevada.']),
             'Post-Termination Services': str(['text that is not in the contract'])}]
    cuad = _fake_cuad(tmp_path / 'cuad', rows, {'ACME_05_08_2014-EX-10.1-SUPPLY AGREEMENT.txt': text},
                      ['ACME_05_08_2014-EX-10.1-SUPPLY AGREEMENT.pdf'])
    out, splits = tmp_path / 'out', tmp_path / 'splits.json'
    args = ['--cuad', str(cuad), '--out', str(out), '--splits', str(splits)]
    assert annotate.main(args) == 0
    first = (out / 'cuad-spans.jsonl').read_bytes()
    record = json.loads(first)
    found = {(record['text'][s:e], label) for s, e, label in record['label']}
    assert found == {('ACME\nINC.', 'PARTY'), ('Supplier', 'PARTY'), ('Beta LLC', 'PARTY'), ('Buyer', 'PARTY'),
                     ('May 8,\n2014', 'AGREEMENT_DATE'),
                     ('This Agreement shall be governed by the laws of the State of Nevada.', 'GOVERNING_LAW')}
    # The first ACME INC. (preamble) is labelled, not the signature line.
    assert [s for s, _, lab in record['label'] if lab == 'PARTY'][0] == text.index('ACME')
    assert record['meta']['contract_type'] == 'supply' and record['meta']['has_pdf'] is True
    report = json.loads((out / 'locate-report.json').read_text())
    assert report['locate']['POST_TERMINATION_SERVICES']['located'] == 0
    assert report['locate']['PARTY']['dropped_answers'] == 1
    assert annotate.main(args) == 0
    assert (out / 'cuad-spans.jsonl').read_bytes() == first


def test_amount_labels_and_corrections_are_merged(tmp_path):
    text = 'ACME INC. pays $1,000 on May 8, 2014.'
    name = 'ACME_05_08_2014-EX-10.1-SUPPLY AGREEMENT'
    cuad = _fake_cuad(tmp_path / 'cuad', [{'Filename': name + '.pdf', 'Parties': "['ACME INC.']"}], {name + '.txt': text}, [])
    out = tmp_path / 'out'
    out.mkdir()
    stem = normalised_stem(name)
    amount = {'id': stem, 'text': text, 'label': [[15, 21, 'AMOUNT']], 'meta': {}}
    (out / 'amount-labels.jsonl').write_text(json.dumps(amount) + '\n')
    args = ['--cuad', str(cuad), '--out', str(out), '--splits', str(tmp_path / 'splits.json')]
    annotate.main(args)
    record = json.loads((out / 'cuad-spans.jsonl').read_text())
    assert record['label'] == [[0, 9, 'PARTY'], [15, 21, 'AMOUNT']] and record['meta']['amount_labelled'] is True
    correction = {'id': stem, 'text': text, 'label': [[25, 36, 'AGREEMENT_DATE']], 'meta': {'amount_labelled': True}}
    (out / 'corrections.jsonl').write_text(json.dumps(correction) + '\n')
    annotate.main(args)
    record = json.loads((out / 'cuad-spans.jsonl').read_text())
    assert record['label'] == [[25, 36, 'AGREEMENT_DATE']] and record['meta']['corrected'] is True


def test_splits_are_by_contract_and_deterministic_with_pdf_quota():
    stems = [f'c{i:03d}' for i in range(200)]
    types = {s: ['license', 'supply', 'services', 'hosting'][i % 4] for i, s in enumerate(stems)}
    pdfs = set(stems[:80])
    first = annotate.make_splits(stems, types, pdfs)
    assert first == annotate.make_splits(stems, types, pdfs)
    assert sorted(sum(first.values(), [])) == stems
    assert len(set(first['test']) & pdfs) == annotate.PDF_TEST
    assert len(set(first['validation']) & pdfs) == annotate.PDF_VALIDATION
    for kind in set(types.values()):  # every type reaches every split
        assert all(any(types[s] == kind for s in split) for split in first.values())


def test_committed_splits_hold_the_contract():
    splits = json.loads((HERE / 'splits.json').read_text())
    everything = sum(splits.values(), [])
    assert len(everything) == len(set(everything)) == 416
    assert 0.65 < len(splits['train']) / 416 < 0.75
    if (REAL_CUAD / 'full_contract_pdf').is_dir():
        pdfs = {normalised_stem(p.name) for p in (REAL_CUAD / 'full_contract_pdf').iterdir()}
        assert len(set(splits['test']) & pdfs) >= 15 and len(set(splits['validation']) & pdfs) >= 10
