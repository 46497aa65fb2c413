"""Propose AMOUNT spans (money with its currency) for hand review; the reviewed result is
data/amount-labels.jsonl, which annotate.py merges into cuad-spans.jsonl.

    python models/documents/amount_proposals.py propose [--per-split 25,10,10] > proposals.tsv
    python models/documents/amount_proposals.py write --review data/amount-review.json

`propose` samples contracts per split (fixed seed) and lists every regex match with its context.
A person reads each line and records the decisions in data/amount-review.json:
  {"reviewed_by": "...", "contracts": [stem...], "reject": {"<stem>": [[start, end, "why"], ...]},
   "fix": {"<stem>": [[start, end, new_start, new_end], ...]}, "add": {"<stem>": [[start, end], ...]}}
`write` applies the review to the proposals and writes amount-labels.jsonl (all sampled contracts,
also those without amounts: AMOUNT is fully labelled in them).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE_SEED = 1010

_NUMBER = r'(?<![\d.])(?:\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d+)?|\.\d+)'
_SCALE = r'(?:\s*(?:million|billion|thousand|bn)\b|(?-i:M|MM|K)\b)?'
# Case-sensitive codes ('Rs' and 'EUR' must not match 'rs'/'eur' inside words).
_CODE = r'(?-i:USD|EUR|GBP|RMB|CNY|JPY|CAD|AUD|CHF|INR|HKD|SGD|NTD|NT|Rs\.?)'
_CURRENCY_BEFORE = rf'(?:(?<![A-Za-z])(?-i:USD|US|U\.S\.|US\.)\s?\$|HK\$|C\$|A\$|CDN\$|NT\$|R\$|\$|€|£|¥|St\(pounds?\)|\(pounds?\)|(?<![A-Za-z]){_CODE}\s?)'
_DOLLAR_WORDS = r'(?:(?:United States|U\.?S\.?|US|Canadian|Hong Kong|Australian)\s)?(?:dollars?|euros?|pounds?(?: sterling)?|yuan|renminbi|RMB|yen|rupees?)'
_NUMBER_WORD = (r'(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|'
                r'sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|'
                r'thousand|million|billion)')
# "Five Million and 00/100", "FOURTEEN MILLION, EIGHT HUNDRED SIXTY TWO THOUSAND": never starts with 'and'.
_WORDS = rf'(?:{_NUMBER_WORD}(?:[\s,-]+(?:and[\s-]+)?(?:{_NUMBER_WORD}|\d\d/100))*[\s-]+)'
_WORDS_NUMBER = rf'{_WORDS}?(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|hundred|thousand|million|billion)\b'
_NUMERIC = rf'{_CURRENCY_BEFORE}\s?{_NUMBER}{_SCALE}(?:\s?(?-i:USD|US dollars))?'
AMOUNT_PATTERN = re.compile(
    # "Ten Thousand Dollars ($10,000)", "five million United States dollars ($5,000,000 USD)"
    rf'\b{_WORDS}{_DOLLAR_WORDS}\b(?:\s*\(\s*{_NUMERIC}(?:\s?net)?\s*\))?'
    # "EUR five million (€ 5,000,000)", "RMB TWENTY THOUSAND"
    rf'|(?<![A-Za-z]){_CODE}\s{_WORDS_NUMBER}(?:\s*\(\s*{_NUMERIC}\s*\))?'
    # "seven million (7,000,000 USD)"
    rf'|\b{_WORDS_NUMBER}\s*\(\s*{_NUMBER}{_SCALE}\s?{_CODE}\s*\)'
    # "$1,000,000", "US$ 5 million", "RMB 200,000", "US$5,000,000 (five million United States dollars)"
    rf'|{_NUMERIC}(?:\s*\((?:{_WORDS})?{_DOLLAR_WORDS}?[^()]{{0,60}}?\b(?:dollars|euros|yuan)\)|\s?\((?:RMB|USD)?\s?{_WORDS_NUMBER}\s*\)|\s?\({_WORDS_NUMBER}\s*\))?'
    # "5 million dollars", "200,000 RMB", "1,000 USD"
    rf'|{_NUMBER}{_SCALE}\s?(?:{_DOLLAR_WORDS}|{_CODE})\b',
    re.IGNORECASE)


def propose(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in AMOUNT_PATTERN.finditer(text):
        start, end = match.start(), match.end()
        while end > start and text[end - 1] in ' \n\t,.;:-':
            end -= 1
        spans.append((start, end))
    return spans


def sample_contracts(splits: dict[str, list[str]], per_split: dict[str, int], extra_train: int = 0) -> list[str]:
    """The review sample; `extra_train` more train contracts come from a second seed, so growing
    the sample later never changes the contracts already reviewed."""
    rng = random.Random(SAMPLE_SEED)
    chosen = []
    for name, count in per_split.items():
        chosen += sorted(rng.sample(sorted(splits[name]), count))
    if extra_train:
        rest = sorted(set(splits['train']) - set(chosen))
        chosen += sorted(random.Random(SAMPLE_SEED + 1).sample(rest, extra_train))
    return chosen


def load_records(path: Path, ids: set[str]) -> dict[str, dict]:
    out = {}
    with path.open(encoding='utf-8') as handle:
        for line in handle:
            record = json.loads(line)
            if record['id'] in ids:
                out[record['id']] = record
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='AMOUNT proposals and the reviewed amount-labels.jsonl')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('propose')
    p.add_argument('--per-split', default='25,10,10', help='contracts from train,validation,test')
    p.add_argument('--extra-train', type=int, default=0, help='more train contracts (second seed)')
    p.add_argument('--only-extra', action='store_true', help='list proposals of the extra contracts only')
    w = sub.add_parser('write')
    w.add_argument('--review', default=str(HERE / 'data' / 'amount-review.json'))
    for q in (p, w):
        q.add_argument('--spans', default=str(HERE / 'data' / 'cuad-spans.jsonl'))
        q.add_argument('--splits', default=str(HERE / 'splits.json'))
    w.add_argument('--out', default=str(HERE / 'data' / 'amount-labels.jsonl'))
    args = parser.parse_args(argv)
    splits = json.loads(Path(args.splits).read_text(encoding='utf-8'))
    split_of = {s: n for n, v in splits.items() for s in v}

    if args.command == 'propose':
        counts = dict(zip(('train', 'validation', 'test'), (int(x) for x in args.per_split.split(','))))
        stems = sample_contracts(splits, counts, args.extra_train)
        if args.only_extra:
            stems = stems[sum(counts.values()):]
        records = load_records(Path(args.spans), set(stems))
        for stem in stems:
            text = records[stem]['text']
            for start, end in propose(text):
                context = (text[max(0, start - 70):start] + '[[' + text[start:end] + ']]' + text[end:end + 50])
                print(f'{stem}\t{start}\t{end}\t' + re.sub(r'\s+', ' ', context))
        print(f'# {len(stems)} contracts: ' + ' '.join(stems), file=sys.stderr)
        return 0

    review = json.loads(Path(args.review).read_text(encoding='utf-8'))
    records = load_records(Path(args.spans), set(review['contracts']))
    missing = set(review['contracts']) - set(records)
    if missing:
        parser.error(f'not in {args.spans}: {sorted(missing)}')
    total = 0
    with Path(args.out).open('w', encoding='utf-8') as handle:
        for stem in review['contracts']:
            text = records[stem]['text']
            rejected = {(s, e) for s, e, _ in review.get('reject', {}).get(stem, [])}
            fixes = {(s, e): (ns, ne) for s, e, ns, ne in review.get('fix', {}).get(stem, [])}
            spans = [fixes.get(span, span) for span in propose(text) if span not in rejected]
            spans += [tuple(s) for s in review.get('add', {}).get(stem, [])]
            labels = [[s, e, 'AMOUNT'] for s, e in sorted(set(spans))]
            total += len(labels)
            meta = {'source': 'hand-review', 'split': split_of[stem], 'reviewed_by': review['reviewed_by'],
                    'rule': review['rule']}
            handle.write(json.dumps({'id': stem, 'text': text, 'label': labels, 'meta': meta}, ensure_ascii=False) + '\n')
    print(f'{len(review["contracts"])} contracts, {total} AMOUNT spans -> {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
