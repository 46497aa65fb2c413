"""Train the PCB QC network on DeepPCB (transfer learning from ImageNet MobileNetV2), then export.

    python models/vision/train.py --deeppcb ../shared/data/deeppcb/PCBData --out models/vision/artifacts

1. head: backbone frozen, neck + heads trained;  2. fine-tune: backbone blocks >= --finetune-from
unfrozen at a lower rate. Validation (group split, data.SPLITS) picks the epoch and thresholds; the
test groups are never read here (card_metrics.py scores them once, from the exported graph, for the
model card). Progress is one line per epoch."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backbone import load_tflite_mobilenet_v2  # noqa: E402
from data import load_split  # noqa: E402
from evaluate import choose_thresholds, evaluate, run_graph  # noqa: E402
from export import load_checkpoint  # noqa: E402
from model import PcbQcNet  # noqa: E402
from report import save_augmentation_grid, save_learning_curves  # noqa: E402
from targets import augment, build_targets, crop, losses  # noqa: E402


def batches(images, frames, size, batch, rng, aug=True):
    order = rng.permutation(len(frames))
    for s in range(0, len(order) - batch + 1, batch):
        idx = order[s:s + batch]
        crops, boxes = zip(*(crop(images[k], frames[k].boxes, size, rng) for k in idx))
        x = torch.from_numpy(np.stack(crops)).float().div(255)[:, None]
        if aug:
            x, boxes = augment(x, list(boxes), rng)
        yield x, build_targets(list(boxes), size)


def val_loss(net, images, frames, batch=8) -> float:
    net.eval()
    total = 0.0
    with torch.no_grad():
        for s in range(0, len(frames), batch):
            x = torch.from_numpy(images[s:s + batch]).float().div(255)[:, None]
            t = build_targets([f.boxes for f in frames[s:s + batch]], images.shape[-1])
            total += sum(losses(net(x), t).values()).item() * len(x)
    return total / len(frames)


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--deeppcb', required=True, help='DeepPCB PCBData folder (with trainval.txt)')
    ap.add_argument('--tflite', required=True, help='mobilenet_v2_1.0_224_quant.tflite (ImageNet weights)')
    ap.add_argument('--out', default=str(here / 'artifacts'))
    ap.add_argument('--head-epochs', type=int, default=2)
    ap.add_argument('--epochs', type=int, default=14, help='fine-tuning epochs after the head epochs')
    ap.add_argument('--finetune-from', type=int, default=4, help='first backbone block to unfreeze')
    ap.add_argument('--init', help='start from this checkpoint (a warm restart of the fine-tuning schedule); use with --head-epochs 0')
    ap.add_argument('--crop', type=int, default=320, help='training window in frame pixels (640: whole frames)')
    ap.add_argument('--ema', type=float, default=0.998, help='decay of the weight average that is evaluated and saved (0: off)')
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--min-recall', type=float, default=0.98, help='DEFECT recall on validation the image threshold must keep')
    ap.add_argument('--time-budget-min', type=float, default=60, help='stop fine-tuning after this long')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(args.deeppcb)
    started = time.time()
    tr_img, tr_frames = load_split(root, 'train')
    va_img, va_frames = load_split(root, 'val')
    print(f'data: train {len(tr_frames)} frames, val {len(va_frames)} frames ({time.time() - started:.0f} s)', flush=True)
    save_augmentation_grid(tr_img, tr_frames, out / 'augmentation-grid.png', rng=np.random.default_rng(1))

    net = PcbQcNet(load_tflite_mobilenet_v2(args.tflite))
    if args.init:
        load_checkpoint(net, args.init)
    backbone = set(map(id, net.backbone_parameters()))
    head_params = [p for p in net.parameters() if id(p) not in backbone]
    for p in net.backbone_parameters():
        p.requires_grad = False
    ema = torch.optim.swa_utils.AveragedModel(net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema), use_buffers=True)
    history, best = [], (-1.0, None)
    total_epochs = args.head_epochs + args.epochs
    opt = torch.optim.AdamW(head_params, lr=2e-3, weight_decay=1e-4)
    for epoch in range(1, total_epochs + 1):
        if epoch == args.head_epochs + 1:
            tuned = net.backbone_parameters(args.finetune_from)
            for p in tuned:
                p.requires_grad = True
            opt = torch.optim.AdamW([{'params': head_params, 'lr': 1e-3}, {'params': tuned, 'lr': 2.5e-4}], weight_decay=1e-4)
            base_lrs = [g['lr'] for g in opt.param_groups]
            finetune_started = time.time()
        net.train()
        t0, parts, steps = time.time(), {}, 0
        for x, t in batches(tr_img, tr_frames, args.crop, args.batch, rng):
            lv = losses(net(x), t)
            loss = sum(lv.values())
            opt.zero_grad()
            loss.backward()
            opt.step()
            ema.update_parameters(net)
            steps += 1
            for k, v in lv.items():
                parts[k] = parts.get(k, 0.0) + v.item()
        if epoch > args.head_epochs:
            # Cosine decay over whichever ends first, the epochs or the time budget, so a slow
            # machine still finishes at a low rate instead of being cut off mid-schedule.
            budget_s = args.time_budget_min * 60 - (finetune_started - started)
            progress = max((epoch - args.head_epochs) / args.epochs, (time.time() - finetune_started) / max(budget_s, 1))
            for g, lr in zip(opt.param_groups, base_lrs):
                g['lr'] = lr * 0.5 * (1 + np.cos(np.pi * min(progress, 1.0)))
        train_loss = sum(parts.values()) / steps
        scored = ema.module if args.ema > 0 else net
        vl = val_loss(scored, va_img, va_frames)
        m = evaluate(run_graph(scored, va_img), va_frames, threshold=0.5, box_threshold=0.05)
        # Threshold-free, so a calibration shift between epochs does not pick the epoch.
        score = m['map_iou033'] + m['auc']
        history.append({'epoch': epoch, 'phase': 'head' if epoch <= args.head_epochs else 'finetune', 'train_loss': train_loss,
                        'val_loss': vl, 'val_accuracy': m['accuracy'], 'val_auc': m['auc'], 'val_map': m['map_iou033'],
                        'train_parts': {k: v / steps for k, v in parts.items()}, 'seconds': time.time() - t0})
        print(f'epoch {epoch}/{total_epochs} train {train_loss:.3f} val {vl:.3f} acc {m["accuracy"]:.3f} '
              f'auc {m["auc"]:.4f} mAP {m["map_iou033"]:.3f} cam {m["gradcam_peak_in_box"]:.2f} ({time.time() - t0:.0f} s)', flush=True)
        if score > best[0]:
            best = (score, epoch)
            torch.save({'model': scored.state_dict(), 'epoch': epoch}, out / 'pcb-qc.pt')
        (out / 'training-history.json').write_text(json.dumps(history, indent=1))
        save_learning_curves(history, out / 'learning-curves.png')
        if (time.time() - started) / 60 > args.time_budget_min or (epoch > args.head_epochs and progress >= 1):
            print(f'time budget of {args.time_budget_min} min reached after epoch {epoch}', flush=True)
            break

    net.load_state_dict(torch.load(out / 'pcb-qc.pt', weights_only=True)['model'])
    net.eval()
    va_out = run_graph(net, va_img)
    chosen = choose_thresholds(va_out, va_frames, args.min_recall)
    val = evaluate(va_out, va_frames, chosen['threshold'], chosen['box_threshold'])
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=here).stdout.strip()
    summary = {**chosen, 'best_epoch': best[1], 'validation': val,
               'training_minutes': (time.time() - started) / 60, 'code_version': commit,
               'trained_at': time.strftime('%Y-%m-%d'), 'args': vars(args)}
    (out / 'training-summary.json').write_text(json.dumps(summary, indent=1))
    (out / 'thresholds.json').write_text(json.dumps(chosen, indent=1))
    print(json.dumps({k: summary[k] for k in ('threshold', 'box_threshold', 'best_epoch')}), flush=True)
    print('validation', json.dumps(val), flush=True)
    print('test groups: after export, models/vision/card_metrics.py scores them once', flush=True)

if __name__ == '__main__':
    main()
