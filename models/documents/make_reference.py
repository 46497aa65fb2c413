#!/usr/bin/env python3
"""reference.json of the committed LexiScan model (drift monitoring, docs/models.md "Drift"), from
the drift samples `documents extract --json` prints per document (streams/documents/drift.ts: the
processor's own feature code, so reference and stream count alike):

    python models/documents/date_ranker.py date-candidates.jsonl --cross-fit FOLDS \
        --files-from train-pdf.list train-txt.list         # <CUAD train PDFs>, <the other train contracts, as .txt>
    for k in 0 1 2 3 4; do node bin/streamscore.mjs documents extract --json --model FOLDS/fold-$k \
        --files-from FOLDS/fold-$k/train-pdf.list; done > train-pdf.jsonl      # the same for train-txt.list
    node bin/streamscore.mjs documents extract --json <CUAD validation PDFs and texts> > validation.jsonl
    .venv/bin/python models/documents/make_reference.py --features train-pdf.jsonl --text-features train-txt.jsonl \
        --predictions validation.jsonl

Since `2026-12-06.6` the date ranker is fitted on the train and validation splits, so on those
contracts its confidences are surer than on an upload. The training documents are therefore read
with the fold rankers `date_ranker.py --cross-fit` writes: each contract by a ranker fitted without
it, the shipped model otherwise (links to its other artifacts).

Features come from the training split (splits.json "train", 286 contracts). The page features (OCR
share, characters per page) from its 65 PDFs (CUAD ships 100 PDFs), read as the stream reads an
upload (text layer, OCR where a page has none); a .txt is one page, so its characters per page are
not a PDF's. The entity counts and confidences from all 286: the PDFs and the others as texts, whose
words the NER sees alike. The prediction (the contract-type
confidence) comes from the validation split instead (its 15 PDFs and the 48 others as texts; the
type head reads the first chunk, the same either way): on its own training contracts the head is
certain (median 1.0000), on unseen ones it is not (median 0.80), and live uploads are unseen.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "common"))
from reference import PREDICTION, write_reference  # noqa: E402

# Features that depend on how a document is paged: only documents read as PDFs count for them.
PAGE_FEATURES = ("ocr_page_share", "chars_per_page")


def drift_rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    failed = [r["file"] for r in rows if "error" in r]
    if failed:
        raise SystemExit(f"{path}: {len(failed)} document(s) failed to extract ({failed[:3]}...): fix or drop them first")
    missing = [r["file"] for r in rows if "drift" not in r]
    if missing:
        raise SystemExit(f"{path}: no drift values for {missing[:3]}: made by an older `documents extract`")
    return rows


def column(rows: list[dict], name: str) -> np.ndarray:
    return np.array([np.nan if r["drift"][name] is None else r["drift"][name] for r in rows], dtype=np.float64)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", type=Path, required=True, help="extract --json lines of the training documents")
    ap.add_argument("--text-features", type=Path, help="extract --json lines of more training documents, as .txt "
                                                         "(counted for every feature but the page features)")
    ap.add_argument("--predictions", type=Path, required=True, help="extract --json lines of held-out documents")
    ap.add_argument("--model-dir", type=Path, default=HERE / "artifacts")
    args = ap.parse_args(argv)
    meta = json.loads((args.model_dir / "model-meta.json").read_text())
    train, held = drift_rows(args.features), drift_rows(args.predictions)
    texts = drift_rows(args.text_features) if args.text_features else []
    for rows, path in ((train, args.features), (held, args.predictions), (texts, args.text_features)):
        if not rows:
            continue
        versions = {(r["model_name"], r["model_version"]) for r in rows}
        if versions != {(meta["model_name"], meta["model_version"])}:
            raise SystemExit(f"{path} was extracted by {sorted(versions)}, not {meta['model_name']} {meta['model_version']}")
    names = [n for n in train[0]["drift"] if n != PREDICTION]
    features = {n: column(train, n) if n in PAGE_FEATURES else np.concatenate([column(train, n), column(texts, n)]) for n in names}
    source = (f"CUAD (models/documents/splits.json), by documents extract --json: page features of {len(train)} training-split "
              f"PDFs, entity features of those and {len(texts)} more training contracts as text (dates ranked out of fold), contract-type confidence "
              f"of {len(held)} validation-split documents")
    path = write_reference(args.model_dir, meta["model_name"], meta["model_version"], features,
                           column(held, PREDICTION), source=source)
    print(json.dumps({"reference": str(path), "features": names, "train_pdfs": len(train), "train_texts": len(texts), "held_out_documents": len(held)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
