"""Choose the image and box thresholds on validation for a checkpoint (what train.py does at its
end), for re-running that step alone, e.g. after changing the selection rule.

    python models/vision/finalize.py --deeppcb .../PCBData --tflite ... --checkpoint models/vision/artifacts/pcb-qc.pt --out thresholds.json"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import load_split  # noqa: E402
from evaluate import choose_thresholds, run_graph  # noqa: E402
from export import build_net  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--deeppcb', required=True)
    ap.add_argument('--tflite', required=True)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--min-recall', type=float, default=0.98)
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    net = build_net(args.tflite, args.checkpoint)
    images, frames = load_split(Path(args.deeppcb), 'val')
    chosen = choose_thresholds(run_graph(net, images), frames, args.min_recall)
    Path(args.out).write_text(json.dumps(chosen, indent=1) + '\n')
    print(json.dumps(chosen))


if __name__ == '__main__':
    main()
