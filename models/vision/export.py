"""Export the trained network to ONNX (one graph: defect logit, box heads, Grad-CAM) and check it.

    python models/vision/export.py --checkpoint models/vision/artifacts/pcb-qc.pt --out models/vision/artifacts

Checks before anything is written: onnxruntime reproduces PyTorch on random and real frames to
1e-4, and the graph's input/output names and shapes are the contract the stream reads.

A trained export ends the training run (train.py, then this): it writes the version's drift
reference.json (make_reference.py over the DeepPCB training and validation frames, ~1,800 frames
through the new graph; --no-reference skips it) and registers the folder with
`streamscore models register vision` when MLFLOW_TRACKING_URI is set or --register is given
(models/common/register.py; a failure is one line, not a failed run, unless --require-registration)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'common'))
from register import add_register_arguments, register_trained_model  # noqa: E402
from backbone import load_tflite_mobilenet_v2  # noqa: E402
from model import CLASSES, INPUT_SIZE, OUTPUT_NAMES, RETIRED_PREFIXES, STRIDE, ExportedPcbQc, PcbQcNet, upgrade_state_dict  # noqa: E402

ONNX_FILE = 'pcb-qc.onnx'


def build_net(tflite_path: str, checkpoint: str | None) -> PcbQcNet:
    net = PcbQcNet(load_tflite_mobilenet_v2(tflite_path))
    if checkpoint:
        load_checkpoint(net, checkpoint)
    return net.eval()


def load_checkpoint(net: PcbQcNet, path: str) -> None:
    state = upgrade_state_dict(torch.load(path, map_location='cpu', weights_only=True)['model'])
    state = {k: v for k, v in state.items() if not k.startswith(RETIRED_PREFIXES)}
    missing, unexpected = net.load_state_dict(state, strict=False)
    # Only the stride-4 branch may be missing (a checkpoint from before it: it starts at zero).
    if unexpected or any(not k.startswith('lateral4.') for k in missing):
        raise ValueError(f'{path}: does not fit the network (missing {missing}, unexpected {unexpected})')


def export_onnx(net: PcbQcNet, path: Path) -> None:
    graph = ExportedPcbQc(net).eval()
    example = torch.rand(1, 1, INPUT_SIZE, INPUT_SIZE)
    torch.onnx.export(graph, (example,), str(path), input_names=['image'], output_names=OUTPUT_NAMES,
                      dynamic_axes={'image': {0: 'batch'}, **{n: {0: 'batch'} for n in OUTPUT_NAMES}},
                      opset_version=17, dynamo=False)


def check_onnx(net: PcbQcNet, path: Path, frames: np.ndarray) -> dict:
    """Max |onnxruntime - torch| per output on `frames` [N, 1, H, W]; raises over 1e-4 (relative)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = session.run(OUTPUT_NAMES, {'image': frames.astype(np.float32)})
    with torch.no_grad():
        want = [t.numpy() for t in ExportedPcbQc(net)(torch.from_numpy(frames.astype(np.float32)))]
    report = {}
    for name, g, w in zip(OUTPUT_NAMES, got, want):
        if g.shape != w.shape:
            raise AssertionError(f'{name}: onnx shape {g.shape}, torch {w.shape}')
        err = float(np.max(np.abs(g - w)) / max(1.0, float(np.max(np.abs(w)))))
        report[name] = err
        if err > 1e-4:
            raise AssertionError(f'{name}: onnxruntime differs from torch by {err:.2e} (relative)')
    return report


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--tflite', default=str(here.parents[1] / '..' / 'shared' / 'data' / 'imagenet-tflite-coral' / 'mobilenet_v2_1.0_224_quant.tflite'))
    ap.add_argument('--checkpoint', help='training checkpoint (.pt); without it the heads are untrained (placeholder)')
    ap.add_argument('--meta', help="training's thresholds.json (image and box thresholds chosen on validation), merged into model-meta.json")
    ap.add_argument('--version', required=True)
    ap.add_argument('--out', default=str(here / 'artifacts'))
    ap.add_argument('--reference-data', default=str(here.parents[1] / '..' / 'shared' / 'data' / 'deeppcb' / 'PCBData'),
                    help='DeepPCB PCBData folder for the drift reference (make_reference.py)')
    ap.add_argument('--reference', action=argparse.BooleanOptionalAction, default=True, help='write reference.json for a trained export')
    add_register_arguments(ap)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net = build_net(args.tflite, args.checkpoint)
    export_onnx(net, out / ONNX_FILE)
    rng = np.random.default_rng(0)
    report = check_onnx(net, out / ONNX_FILE, rng.random((2, 1, INPUT_SIZE, INPUT_SIZE)))
    extra = json.loads(Path(args.meta).read_text()) if args.meta else {}
    meta = {
        'model_name': 'pcb-qc-mobilenetv2', 'model_version': args.version,
        'input': {'name': 'image', 'height': INPUT_SIZE, 'width': INPUT_SIZE, 'channels': 1, 'range': [0, 1]},
        'outputs': OUTPUT_NAMES, 'stride': STRIDE, 'classes': CLASSES,
        # Placeholders until training's thresholds.json (chosen on validation) is merged in below.
        'threshold': 0.5, 'box_threshold': 0.3, 'max_boxes': 50,
        'trained': bool(args.checkpoint), 'onnx_check_max_relative_error': report,
        **extra,
    }
    (out / 'model-meta.json').write_text(json.dumps(meta, indent=2) + '\n')
    print(f'wrote {out / ONNX_FILE} ({(out / ONNX_FILE).stat().st_size / 1e6:.1f} MB) and model-meta.json; onnx check {report}')
    if not args.checkpoint:
        print('untrained placeholder: no drift reference written, not registered')
        return
    if args.reference:
        write_drift_reference(Path(args.reference_data), out)
    register_trained_model('vision', out, flag=args.register, required=args.require_registration)


def write_drift_reference(data: Path, out: Path) -> None:
    """reference.json of the exported version; without the DeepPCB frames, one line says so (the version is then unmonitored)."""
    if not data.is_dir():
        print(f'no drift reference written: {data} is not a folder (--reference-data); later: python models/vision/make_reference.py --data DIR --model-dir {out}')
        return
    import make_reference  # onnxruntime, numpy and Pillow, as the export check already needs

    make_reference.main(['--data', str(data), '--model-dir', str(out)])


if __name__ == '__main__':
    main()
