"""Figures for the model card: learning curves and a grid of augmented training crops with boxes."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from model import CLASSES  # noqa: E402
from targets import augment, crop  # noqa: E402


def save_learning_curves(history: list[dict], path: Path) -> None:
    ep = [h['epoch'] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(ep, [h['train_loss'] for h in history], 'o-', label='train (augmented crops)')
    a.plot(ep, [h['val_loss'] for h in history], 's-', label='validation (full frames)')
    a.set_xlabel('epoch'); a.set_ylabel('loss'); a.set_yscale('log'); a.legend(); a.grid(alpha=0.3)
    if all('val_auc' in h for h in history):
        b.plot(ep, [h['val_auc'] for h in history], 'o-', label='val image ROC AUC')
    b.plot(ep, [h['val_map'] for h in history], 's-', label='val box mAP@IoU0.33 (boxes >= 0.05)')
    b.set_xlabel('epoch'); b.set_ylim(0, 1.02); b.legend(); b.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def save_augmentation_grid(images: np.ndarray, frames, path: Path, rng: np.random.Generator, n: int = 8) -> None:
    idx = [i for i, f in enumerate(frames) if f.defect][:n // 2] + [i for i, f in enumerate(frames) if not f.defect][:n // 2]
    crops, boxes = zip(*(crop(images[k], frames[k].boxes, 320, rng) for k in idx))
    x, boxes = augment(torch.from_numpy(np.stack(crops)).float().div(255)[:, None], list(boxes), rng)
    fig, axes = plt.subplots(2, n // 2, figsize=(3 * n // 2, 6.2))
    for ax, img, bs, k in zip(axes.flat, x, boxes, idx):
        ax.imshow(img[0].numpy(), cmap='gray', vmin=0, vmax=1)
        for x1, y1, x2, y2, c in bs:
            ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color='red', lw=1.2))
            ax.text(x1, y1 - 2, CLASSES[int(c)], color='red', fontsize=7)
        ax.set_title('DEFECT' if frames[k].defect else 'PASS', fontsize=9)
        ax.axis('off')
    fig.suptitle('augmented training crops (flip, quarter turn, rotation, zoom, lighting, blur, noise)', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
