"""Numbers for the model card, from the exported ONNX graph (what ships) on the validation and the
test groups, with the thresholds training chose on validation; nothing here changes the model.

    python models/vision/card_metrics.py --deeppcb ../shared/data/deeppcb/PCBData --artifacts models/vision/artifacts

Adds: localisation by the box head vs boxes from Grad-CAM alone (class-agnostic AP), results under
camera jitter (lighting, blur, noise: the augmentation's photometric part), and CPU latency."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import load_split  # noqa: E402
from evaluate import evaluate, localisation_report  # noqa: E402
from model import OUTPUT_NAMES  # noqa: E402


def run_onnx(session, images: np.ndarray, batch: int = 4) -> list[np.ndarray]:
    parts = [session.run(OUTPUT_NAMES, {'image': images[i:i + batch].astype(np.float32)[:, None] / 255})
             for i in range(0, len(images), batch)]
    return [np.concatenate([p[k] for p in parts]) for k in range(len(OUTPUT_NAMES))]


def jitter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Photometric camera jitter only (boxes stay valid): contrast, brightness, gamma, noise."""
    x = images.astype(np.float32) / 255
    n = len(x)
    c = rng.uniform(0.75, 1.25, (n, 1, 1)); b = rng.uniform(-0.12, 0.12, (n, 1, 1)); g = rng.uniform(0.8, 1.25, (n, 1, 1))
    x = np.clip((x - 0.5) * c + 0.5 + b, 0, 1) ** g
    x = np.clip(x + rng.normal(0, 0.03, x.shape), 0, 1)
    return np.round(x * 255).astype(np.uint8)


def latency_ms(path: Path, frame: np.ndarray, threads: int, runs: int = 30) -> dict:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    s = ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])
    x = frame.astype(np.float32)[None, None] / 255
    for _ in range(5):
        s.run(None, {'image': x})
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, {'image': x})
        t.append((time.perf_counter() - t0) * 1000)
    return {'p50': float(np.percentile(t, 50)), 'p90': float(np.percentile(t, 90))}


def main() -> None:
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--deeppcb', required=True)
    ap.add_argument('--artifacts', required=True)
    args = ap.parse_args()
    art = Path(args.artifacts)
    meta = json.loads((art / 'model-meta.json').read_text())
    session = ort.InferenceSession(str(art / 'pcb-qc.onnx'), providers=['CPUExecutionProvider'])
    th, bt = meta['threshold'], meta['box_threshold']
    report = {'model_version': meta['model_version'], 'threshold': th, 'box_threshold': bt}
    rng = np.random.default_rng(7)
    for split in ('val', 'test'):
        images, frames = load_split(Path(args.deeppcb), split)
        out = run_onnx(session, images)
        report[split] = {**evaluate(out, frames, th, bt), **localisation_report(out, frames, bt),
                         'map_iou033_all_boxes': evaluate(out, frames, th, 0.01)['map_iou033']}
        jit = run_onnx(session, jitter(images, rng))
        report[f'{split}_camera_jitter'] = evaluate(jit, frames, th, bt)
        print(split, json.dumps(report[split]), flush=True)
    report['cpu_latency_ms'] = {f'{t}_threads': latency_ms(art / 'pcb-qc.onnx', images[0], t) for t in (1, 2)}
    (art / 'card-metrics.json').write_text(json.dumps(report, indent=1) + '\n')
    print(json.dumps(report['cpu_latency_ms']))


if __name__ == '__main__':
    main()
