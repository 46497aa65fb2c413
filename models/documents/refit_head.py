"""Second training stage: refit the tagger (the linear layer over the last hidden state) to
convergence on frozen encoder features, keeping the encoder of a train.py checkpoint as it is.

    python models/documents/refit_head.py --checkpoint models/documents/runs/run4/checkpoint.pt

Why: on this shared 2-core CPU one epoch of fine-tuning (131 steps) adapts the encoder but leaves
the tagger far from converged; a linear layer on cached features trains in seconds for hundreds of
passes. Same windows as train.py (positives + a seeded 0.3x sample of negatives), the same masked,
positive-weighted BCE; the pass count is chosen on the validation sample's loss. Test is not read.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from chunking import WordPieces  # noqa: E402
from corpus import DEFAULT_DATA, DEFAULT_SPLITS, load_split  # noqa: E402
from model import default_encoder_dir, load_checkpoint  # noqa: E402
from train import doc_chunks, positive_weights, sample_epoch  # noqa: E402


@torch.no_grad()
def features(model, items: list[dict], batch: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Last hidden state, targets and loss mask of every unmasked piece: [P, H], [P, T], [P, T]."""
    xs, ys, ws = [], [], []
    for b in range(0, len(items), batch):
        group = items[b:b + batch]
        ids = torch.from_numpy(np.stack([g['ids'] for g in group]))
        mask = torch.from_numpy(np.stack([g['mask'] for g in group]))
        hidden = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        w = torch.from_numpy(np.stack([g['w'] for g in group]))
        keep = w.sum(-1) > 0
        xs.append(hidden[keep])
        ys.append(torch.from_numpy(np.stack([g['y'] for g in group]))[keep])
        ws.append(w[keep])
        if b % 320 == 0:
            print(f'  features {b}/{len(items)}', flush=True)
    return torch.cat(xs), torch.cat(ys), torch.cat(ws)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--data', default=str(DEFAULT_DATA))
    ap.add_argument('--splits', default=str(DEFAULT_SPLITS))
    ap.add_argument('--neg-ratio', type=float, default=0.3)
    ap.add_argument('--pos-weight-power', type=float, default=0.5)
    ap.add_argument('--passes', type=int, default=60)
    ap.add_argument('--seed', type=int, default=13)
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    model, meta = load_checkpoint(args.checkpoint)
    pieces = WordPieces(str(default_encoder_dir() / 'tokenizer.json'))
    tags, ml, stride = meta['tags'], meta['max_length'], meta['stride']
    t0 = time.time()
    train = [c for d in load_split('train', args.data, args.splits) for c in doc_chunks(d, pieces, tags, ml, stride)]
    val = [c for d in load_split('validation', args.data, args.splits) for c in doc_chunks(d, pieces, tags, ml, stride)]
    train_items = sample_epoch(train, args.neg_ratio, random.Random(args.seed))
    val_items = sample_epoch(val, args.neg_ratio, random.Random(args.seed + 1000))
    pos_weight = positive_weights([c for c in train if c['positive']], args.pos_weight_power)
    xtr, ytr, wtr = features(model, train_items)
    xva, yva, wva = features(model, val_items)
    print(f'features: train {tuple(xtr.shape)}, validation {tuple(xva.shape)}; {time.time() - t0:.0f} s', flush=True)
    head = torch.nn.Linear(xtr.shape[1], len(tags))
    head.load_state_dict(model.tagger.state_dict())
    opt = torch.optim.Adam(head.parameters(), lr=2e-3)

    def loss_of(x, y, w):
        return (F.binary_cross_entropy_with_logits(head(x), y, reduction='none', pos_weight=pos_weight) * w).sum() / w.sum()

    with torch.no_grad():
        best = (float(loss_of(xva, yva, wva)), 0, {k: v.clone() for k, v in head.state_dict().items()})
    print(f'pass 0: validation loss {best[0]:.4f}', flush=True)
    n, bs = xtr.shape[0], 8192
    for p in range(1, args.passes + 1):
        order = torch.randperm(n)
        for b in range(0, n, bs):
            i = order[b:b + bs]
            loss = loss_of(xtr[i], ytr[i], wtr[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            v = float(loss_of(xva, yva, wva))
        if v < best[0]:
            best = (v, p, {k: t.clone() for k, t in head.state_dict().items()})
        if p % 5 == 0:
            print(f'pass {p}: train loss {float(loss):.4f}, validation loss {v:.4f}', flush=True)
    print(f'best pass {best[1]}: validation loss {best[0]:.4f}', flush=True)
    model.tagger.load_state_dict(best[2])
    ckpt = torch.load(args.checkpoint, map_location='cpu', weights_only=False)
    ckpt['model'] = model.state_dict()
    ckpt['meta']['head_refit'] = {'passes': best[1], 'validation_loss': best[0], 'train_pieces': int(n), 'seconds': round(time.time() - t0)}
    out = Path(args.checkpoint).with_name('checkpoint-refit.pt')
    torch.save(ckpt, out)
    print(f'wrote {out}', flush=True)


if __name__ == '__main__':
    main()
