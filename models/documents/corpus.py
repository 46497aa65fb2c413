"""Reading ner-data's annotations (Doccano JSONL) and splits for training and evaluation."""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / 'data' / 'cuad-spans.jsonl'
DEFAULT_SPLITS = HERE / 'splits.json'

# The contract's label order (docs: lexiscan-contract.md). Labels without training spans are left
# out of the trained model (e.g. AMOUNT until a contract carries meta.amount_labelled).
ALL_LABELS = ['PARTY', 'AGREEMENT_DATE', 'EFFECTIVE_DATE', 'EXPIRATION_DATE', 'GOVERNING_LAW', 'AMOUNT',
              'TERMINATION_FOR_CONVENIENCE', 'TERMINATION_NOTICE_PERIOD', 'POST_TERMINATION_SERVICES']
# Labels learned only from contracts whose meta says they were labelled (ner-data's hand-checked sample).
PARTIALLY_LABELLED = {'AMOUNT': 'amount_labelled'}


def load_split(split: str, data: str | Path = DEFAULT_DATA, splits: str | Path = DEFAULT_SPLITS) -> list[dict]:
    """The contracts of one split, in splits.json order; each {'id','text','label','meta'}."""
    stems = json.loads(Path(splits).read_text())[split]
    wanted = set(stems)
    by_id: dict[str, dict] = {}
    with open(data, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            doc = json.loads(line)
            if doc['id'] in wanted:
                by_id[doc['id']] = doc
    missing = [s for s in stems if s not in by_id]
    if missing:
        raise ValueError(f'{data}: {len(missing)} contracts of split {split!r} are missing, e.g. {missing[:3]}')
    docs = [by_id[s] for s in stems]
    for d in docs:
        d['spans'] = [(int(s), int(e), str(lab)) for s, e, lab in d.get('label', [])]
    return docs


def trained_labels(train_docs: list[dict]) -> list[str]:
    present = {lab for d in train_docs for _, _, lab in d['spans']}
    return [lab for lab in ALL_LABELS if lab in present]


def tags_for(labels: list[str]) -> list[str]:
    return ['O'] + [f'{p}-{lab}' for lab in labels for p in ('B', 'I')]
