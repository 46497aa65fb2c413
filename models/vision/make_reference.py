#!/usr/bin/env python3
"""reference.json of the committed VisionSpec model (drift monitoring, docs/models.md "Drift").

    /work/vision-venv/bin/python models/vision/make_reference.py [--data ../shared/data/deeppcb/PCBData]

Per frame, what the stream computes in its worker (streams/vision/inspect-frame.ts brightnessOf):
the mean and standard deviation of the model input (the 640x640 grayscale frame / 255), and the
defect probability sigmoid(defect_logit) from the committed ONNX graph (onnxruntime, as the stream
runs it). Frames: the training and validation splits (data.SPLITS: 1,600 + 200 frames, five of
DeepPCB's seven board designs) for the brightness features. Brightness is mostly a property of the
board design (group means 0.48 to 0.85), so the more designs the reference holds, the fewer a
stable line of a known design alarms on; the two test designs stay unseen (docs/models.md has
their numbers against this reference). The prediction's reference is the validation split alone:
on its own training frames the model is sure (probabilities pinned near 0 and 1), and live frames,
which it has not seen either, would look drifted against that.
Needs numpy, Pillow and onnxruntime (the vision venv has them; no PyTorch).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "common"))
from data import frames, load_gray  # noqa: E402
from reference import write_reference  # noqa: E402


def frame_values(session: ort.InferenceSession, input_name: str, paths: list[Path], batch: int = 8) -> dict[str, np.ndarray]:
    """brightness_mean, brightness_std and the defect probability of each frame, in order."""
    mean, std, prob = [], [], []
    for i in range(0, len(paths), batch):
        x = np.stack([load_gray(p) for p in paths[i:i + batch]]).astype(np.float32)[:, None] / np.float32(255)
        # float32 as the stream's Float32Array; the statistics themselves in float64, as brightnessOf sums
        flat = x.reshape(len(x), -1).astype(np.float64)
        mean.extend(flat.mean(axis=1))
        std.extend(flat.std(axis=1))
        logit = session.run(["defect_logit"], {input_name: x})[0].reshape(-1)
        prob.extend(1 / (1 + np.exp(-logit.astype(np.float64))))
    return {"brightness_mean": np.array(mean), "brightness_std": np.array(std), "prediction": np.array(prob)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data" / "deeppcb" / "PCBData")
    ap.add_argument("--model-dir", type=Path, default=HERE / "artifacts")
    args = ap.parse_args(argv)
    meta = json.loads((args.model_dir / "model-meta.json").read_text())
    session = ort.InferenceSession(str(args.model_dir / "pcb-qc.onnx"), providers=["CPUExecutionProvider"])
    name = meta["input"]["name"]
    train = frame_values(session, name, [f.path for f in frames(args.data, "train")])
    val = frame_values(session, name, [f.path for f in frames(args.data, "val")])
    features = {k: np.concatenate([train[k], val[k]]) for k in ("brightness_mean", "brightness_std")}
    source = (f"DeepPCB {args.data.name}: brightness of the {len(train['prediction'])} training and {len(val['prediction'])} "
              f"validation frames (data.SPLITS); defect probability of the {len(val['prediction'])} validation frames "
              f"(held out by design; the model is too sure of its training frames for a reference)")
    path = write_reference(args.model_dir, meta["model_name"], meta["model_version"], features, val["prediction"], source=source)
    summary = {k: {"train_mean": float(v.mean()), "val_mean": float(val[k].mean())} for k, v in train.items()}
    print(json.dumps({"reference": str(path), "frames": {"train": len(train["prediction"]), "val": len(val["prediction"])}, "summary": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
