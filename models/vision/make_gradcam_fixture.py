"""Fixture for the stream's Grad-CAM test (streams/vision/gradcam.test.ts): a few DeepPCB frames as
lossless PNG and, for each, the Grad-CAM of the defect score computed by PyTorch autograd on the
same network (torch.autograd.grad w.r.t. the fused feature map), normalised to max 1. The stream
computes Grad-CAM inside the ONNX graph in closed form; the test holds the two equal to 1e-4.

    python models/vision/make_gradcam_fixture.py --deeppcb ../shared/data/deeppcb/PCBData \\
        --tflite .../mobilenet_v2_1.0_224_quant.tflite --checkpoint models/vision/artifacts/pcb-qc.pt"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import load_gray, read_pairs  # noqa: E402
from export import build_net  # noqa: E402
from model import gradcam_closed_form, image_score  # noqa: E402

# Validation-group frames (never trained on): two DEFECT boards and one PASS board. A clean board's
# Grad-CAM may be all zero (ReLU), which would compare nothing, so each slot takes the first frame
# from its start index on whose map has support (> 10 cells above 0.05 of its max).
FIXTURE_FRAMES = [('group77000', 'test', 0), ('group77000', 'test', 7), ('group77000', 'temp', 3)]
MIN_SUPPORT_CELLS = 10


def autograd_gradcam(net, image: torch.Tensor) -> tuple[np.ndarray, float]:
    feats = net.features(image)
    score = image_score(net.center(feats))[0, 0]
    (grads,) = torch.autograd.grad(score, feats)
    alpha = grads.mean((2, 3), keepdim=True)
    cam = torch.relu((alpha * feats).sum(1))[0]
    return cam.detach().numpy(), float(score.detach())


def normalised(cam: np.ndarray) -> np.ndarray:
    m = float(cam.max())
    return cam / m if m > 0 else cam


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--deeppcb', required=True)
    ap.add_argument('--tflite', required=True)
    ap.add_argument('--checkpoint')
    ap.add_argument('--out', default=str(here / 'fixtures' / 'gradcam'))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net = build_net(args.tflite, args.checkpoint)
    meta = json.loads((here / 'artifacts' / 'model-meta.json').read_text())
    pairs = read_pairs(Path(args.deeppcb))
    entries = []
    for group, kind, start in FIXTURE_FRAMES:
        for test, template, _ in [p for p in pairs if p[0].parts[-3] == group][start:]:
            src = test if kind == 'test' else template
            pixels = load_gray(src)
            image = torch.from_numpy(pixels.copy()).float().div(255)[None, None]
            cam, score = autograd_gradcam(net, image)
            if (normalised(cam) > 0.05).sum() > MIN_SUPPORT_CELLS:
                break
        else:
            raise ValueError(f'no {kind} frame of {group} has a Grad-CAM map with support')
        name = f'{src.stem}.png'
        Image.fromarray(pixels).save(out / name, optimize=True)
        with torch.no_grad():
            closed = gradcam_closed_form(net, net.features(image))[0].numpy()
        gap = float(np.abs(normalised(cam) - normalised(closed)).max())
        if gap > 1e-4:
            raise AssertionError(f'{name}: closed-form Grad-CAM differs from autograd by {gap:.2e}')
        entries.append({'file': name, 'defect': kind == 'test', 'defect_logit': score, 'grid': list(cam.shape),
                        'gradcam_autograd_normalised': [round(float(v), 7) for v in normalised(cam).ravel()]})
        print(f'{name}: logit {score:.3f}, closed form vs autograd max gap {gap:.1e}')
    (out / 'gradcam.json').write_text(json.dumps({
        'model_name': meta['model_name'], 'model_version': meta['model_version'],
        'method': 'torch.autograd.grad of the image score (LSE of the centre logits) w.r.t. the fused stride-16 feature map; '
                  'alpha = spatial mean of the gradient; cam = relu(sum_k alpha_k A_k); normalised by its max',
        'tolerance': 1e-4, 'frames': entries}, indent=1) + '\n')


if __name__ == '__main__':
    main()
