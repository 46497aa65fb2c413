"""Write the fixtures that hold streams/documents/ner/ equal to Python (no Python in CI).

    python models/documents/make_fixture.py

For each fixture text: the word-piece ids of every chunk, the entities and the contract type, as
chunking.predict computes them with the committed ONNX graph (onnxruntime) and the meta's
thresholds. Offsets are Python code points; the TypeScript test converts them to UTF-16.
Texts: a contract preamble (ASCII), the same with non-ASCII characters (accents, curly quotes,
euro sign, CJK, an emoji outside the BMP, a zero-width space), and a long CUAD validation
contract excerpt that needs several chunks. The CUAD text is CC BY 4.0 (The Atticus Project).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from chunking import WordPieces, predict  # noqa: E402
from corpus import DEFAULT_DATA, DEFAULT_SPLITS, load_split  # noqa: E402
from evaluate import onnx_runner  # noqa: E402

PREAMBLE = ('MASTER SERVICES AGREEMENT\n\nThis Master Services Agreement (the "Agreement") is entered into as of '
            'March 3, 2019 (the "Effective Date") by and between Acme Widgets, Inc., a Delaware corporation '
            '("Acme"), and Globex Consulting LLC, a New York limited liability company ("Consultant").\n\n'
            '12. Governing Law. This Agreement shall be governed by and construed in accordance with the laws of '
            'the State of New York, without regard to its conflict of laws principles.\n\n'
            '13. Term. This Agreement shall remain in effect for a period of two (2) years from the Effective Date. '
            'Either party may terminate this Agreement for convenience upon thirty (30) days prior written notice '
            'to the other party. The fee is $12,500.00 per month.')
NON_ASCII = ('CONTRAT DE LICENCE — “Licence Agreement” made on 1 février 2021 between Société Générale Ãrbitrage '
             'S.A. (“Licensor”) and Müller & Söhne GmbH (“Licensee”) 🚀 for €250.000,00; 東京 office.\u200b '
             'This Agreement is governed by the laws of England and Wales. Naïve café coöperation ﬁnance ＡＢＣ.')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--artifacts', default=str(HERE / 'artifacts'))
    ap.add_argument('--data', default=str(DEFAULT_DATA))
    ap.add_argument('--splits', default=str(DEFAULT_SPLITS))
    ap.add_argument('--out', default=str(HERE.parents[1] / 'streams' / 'documents' / 'ner' / 'fixtures'))
    ap.add_argument('--long-words', type=int, default=1400, help='words of the long validation excerpt')
    args = ap.parse_args()
    artifacts = Path(args.artifacts)
    meta = json.loads((artifacts / 'model-meta.json').read_text())
    pieces = WordPieces(str(artifacts / 'tokenizer.json'))
    run = onnx_runner(artifacts / 'legal-ner.onnx', threads=1)
    long_doc = load_split('validation', args.data, args.splits)[0]
    cut = len(' '.join(long_doc['text'].split(' ')[:args.long_words]))
    texts = {'preamble': PREAMBLE, 'non-ascii': NON_ASCII, 'long-cuad': long_doc['text'][:cut], 'empty': ''}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        result = predict(text, run, pieces, meta, batch_size=8)
        fixture = {'name': name, 'source': long_doc['id'] if name == 'long-cuad' else 'written for this fixture',
                   'model_version': meta['model_version'], 'offsets': 'code points', 'text': text,
                   'tokens': result['tokens'], 'chunks': result['chunks'], 'chunk_ids': result['chunk_ids'],
                   'entities': result['entities'], 'contract_type': result['contract_type']}
        (out / f'{name}.json').write_text(json.dumps(fixture, ensure_ascii=False) + '\n')
        print(f"{name}: {result['tokens']} tokens, {result['chunks']} chunks, {len(result['entities'])} entities, type {result['contract_type']}")


if __name__ == '__main__':
    main()
