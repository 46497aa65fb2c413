"""Training targets and augmentation on batches of frames with their boxes (frame pixels).

Augmentation is what a line camera does to a board: flips and quarter turns (boards enter either
way round), a small rotation and zoom (fixture play), brightness/contrast/gamma (lighting drift),
blur (focus) and sensor noise. Geometric changes move the boxes with the pixels."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from model import CLASSES, STRIDE


def augment(img: torch.Tensor, boxes: list[np.ndarray], rng: np.random.Generator):
    """img [N, 1, S, S] float 0..1 (square); boxes per frame [K, 5]. Returns new tensors/boxes."""
    n, _, s, _ = img.shape
    out, out_boxes = [], []
    for i in range(n):
        x, b = img[i], boxes[i].copy()
        if rng.random() < 0.5:
            x = x.flip(-1)
            b[:, [0, 2]] = s - b[:, [2, 0]]
        if rng.random() < 0.5:
            x = x.flip(-2)
            b[:, [1, 3]] = s - b[:, [3, 1]]
        k = int(rng.integers(4))
        for _ in range(k):  # rot90 counter-clockwise: (x, y) -> (y, s - x)
            x = x.rot90(1, (-2, -1))
            b = np.stack([b[:, 1], s - b[:, 2], b[:, 3], s - b[:, 0], b[:, 4]], 1)
        x, b = _rotate_zoom(x, b, math.radians(rng.uniform(-4, 4)), rng.uniform(0.9, 1.1))
        c, br, g = rng.uniform(0.6, 1.4), rng.uniform(-0.2, 0.2), rng.uniform(0.7, 1.4)
        x = ((x - 0.5) * c + 0.5 + br).clamp(0, 1) ** g
        if rng.random() < 0.3:
            sigma = rng.uniform(0.5, 1.3)
            x = _blur(x, sigma)
        if rng.random() < 0.5:
            x = (x + torch.randn_like(x) * rng.uniform(0.0, 0.06)).clamp(0, 1)
        out.append(x)
        out_boxes.append(b)
    return torch.stack(out), out_boxes


def _rotate_zoom(x: torch.Tensor, b: np.ndarray, angle: float, zoom: float):
    s = x.shape[-1]
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=x.dtype)[None]
    grid = F.affine_grid(theta, (1, 1, s, s), align_corners=False)
    # Border pixels repeat the board edge rather than inventing black copper-free areas.
    y = F.grid_sample(x[None], grid, mode='bilinear', padding_mode='border', align_corners=False)[0]
    if len(b):
        # Output pixel p samples input at R p (centred coords), so input point q lands at R^-1 q.
        inv = np.linalg.inv(np.array([[cos, -sin], [sin, cos]]))
        corners = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [0, 3]], b[:, [2, 3]]], 1) - s / 2
        moved = corners @ inv.T + s / 2
        b = np.concatenate([moved.min(1), moved.max(1), b[:, 4:5]], 1).astype(np.float32)
        b[:, :4] = b[:, :4].clip(0, s)
        b = b[(b[:, 2] - b[:, 0] > 2) & (b[:, 3] - b[:, 1] > 2)]
    return y, b


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = torch.arange(-2, 3, dtype=x.dtype)
    k = torch.exp(-(r ** 2) / (2 * sigma ** 2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x[None], (2, 2, 0, 0), mode='replicate'), k.view(1, 1, 1, 5))
    return F.conv2d(F.pad(x, (0, 0, 2, 2), mode='replicate'), k.view(1, 1, 5, 1))[0]


def crop(img: np.ndarray, boxes: np.ndarray, size: int, rng: np.random.Generator):
    """Random size x size window; keeps boxes whose centre is inside, clipped to the window."""
    s = img.shape[-1]
    x0, y0 = (int(v) for v in rng.integers(0, s - size + 1, 2))
    b = boxes.copy()
    if len(b):
        b[:, [0, 2]] -= x0
        b[:, [1, 3]] -= y0
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        b = b[(cx >= 0) & (cx < size) & (cy >= 0) & (cy < size)]
        b[:, :4] = b[:, :4].clip(0, size)
    return img[y0:y0 + size, x0:x0 + size], b


def build_targets(boxes: list[np.ndarray], size: int):
    """CenterNet targets on the grid of the heads: gaussian centre heatmaps, log size and offset at
    each centre cell (mask), and the image-level label (any defect)."""
    g = size // STRIDE
    n = len(boxes)
    heat = np.zeros((n, len(CLASSES), g, g), np.float32)
    reg = np.zeros((n, 4, g, g), np.float32)  # log(w/STRIDE), log(h/STRIDE), off_x, off_y
    mask = np.zeros((n, 1, g, g), np.float32)
    ys, xs = np.mgrid[0:g, 0:g]
    for i, bs in enumerate(boxes):
        for x1, y1, x2, y2, c in bs:
            w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
            cx, cy = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE
            j, k = min(int(cx), g - 1), min(int(cy), g - 1)
            sigma = max(0.6, math.sqrt(w * h) / STRIDE / 4)
            gauss = np.exp(-((xs - j) ** 2 + (ys - k) ** 2) / (2 * sigma ** 2))
            heat[i, int(c)] = np.maximum(heat[i, int(c)], gauss)
            reg[i, :, k, j] = [math.log(w / STRIDE), math.log(h / STRIDE), cx - j, cy - k]
            mask[i, 0, k, j] = 1
    label = np.array([[1.0 if len(bs) else 0.0] for bs in boxes], np.float32)
    return torch.from_numpy(heat), torch.from_numpy(reg), torch.from_numpy(mask), torch.from_numpy(label)


def focal_loss(logits: torch.Tensor, heat: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, summed; divide by the number of centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = heat.eq(1).float()
    neg_w = (1 - heat) ** 4
    return -(pos * (1 - p) ** 2 * torch.log(p) + (1 - pos) * neg_w * p ** 2 * torch.log(1 - p)).sum()


def losses(outputs, targets) -> dict[str, torch.Tensor]:
    center, size, offset, logit, _ = outputs
    heat, reg, mask, label = targets
    focal = focal_loss(center, heat)
    num = heat.eq(1).float().sum().clamp(min=1)
    m = mask.expand(-1, 2, -1, -1)
    size_l1 = (F.l1_loss(size, reg[:, :2], reduction='none') * m).sum() / num
    off_l1 = (F.l1_loss(torch.sigmoid(offset), reg[:, 2:], reduction='none') * m).sum() / num
    # The image score is a smooth max of the centre logits: the image label pulls it too.
    cls = F.binary_cross_entropy_with_logits(logit, label)
    return {'center': focal / num, 'size': 0.5 * size_l1, 'offset': off_l1, 'defect': 0.5 * cls}
