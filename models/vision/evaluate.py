"""Metrics of the DeepPCB protocol and the QC brief, from the exported graph's outputs.

- image level: accuracy, recall of DEFECT frames and false-reject rate of PASS frames at a threshold;
- boxes: AP per class at IoU > 0.33 (DeepPCB's criterion; all-point interpolated precision), mAP;
- Grad-CAM: share of DEFECT frames whose heatmap peak lies inside a true box.
`decode` is the stream's post-processing (streams/vision/postprocess.ts) in NumPy."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from model import CLASSES, STRIDE, ExportedPcbQc


def run_graph(net, images: np.ndarray, batch: int = 8) -> list[np.ndarray]:
    """images uint8 [N, H, W] -> the five contract outputs, concatenated over batches."""
    graph = ExportedPcbQc(net).eval()
    parts = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(images[i:i + batch]).float().div(255)[:, None]
            parts.append([t.numpy() for t in graph(x)])
    return [np.concatenate([p[k] for p in parts]) for k in range(5)]


def decode(heatmap: np.ndarray, size: np.ndarray, offset: np.ndarray, box_threshold: float, max_boxes: int,
           scale: float = 1.0) -> np.ndarray:
    """One frame's boxes [K, 6]: x1, y1, x2, y2, score, class (frame pixels)."""
    h = torch.from_numpy(heatmap)[None]
    peaks = (h == F.max_pool2d(h, 3, 1, 1))[0].numpy() & (heatmap >= box_threshold)
    c, i, j = np.nonzero(peaks)
    scores = heatmap[c, i, j]
    order = np.argsort(-scores, kind='stable')[:max_boxes]
    c, i, j, scores = c[order], i[order], j[order], scores[order]
    cx = (j + offset[0, i, j]) * STRIDE * scale
    cy = (i + offset[1, i, j]) * STRIDE * scale
    w, hh = size[0, i, j] * scale, size[1, i, j] * scale
    return np.stack([cx - w / 2, cy - hh / 2, cx + w / 2, cy + hh / 2, scores, c.astype(np.float32)], 1)


def gradcam_peak(cam: np.ndarray, scale: float = 1.0) -> tuple[float, float] | None:
    """Argmax cell refined by the weighted centroid of its 3x3 neighbourhood, in frame pixels."""
    if cam.max() <= 0:
        return None
    g = cam.shape[0]
    i, j = np.unravel_index(int(np.argmax(cam)), cam.shape)
    i0, i1, j0, j1 = max(i - 1, 0), min(i + 2, g), max(j - 1, 0), min(j + 2, g)
    win = cam[i0:i1, j0:j1]
    ii, jj = np.mgrid[i0:i1, j0:j1]
    ci, cj = (win * ii).sum() / win.sum(), (win * jj).sum() / win.sum()
    return (cj + 0.5) * STRIDE * scale, (ci + 0.5) * STRIDE * scale


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of each box in a [K, 4+] with each in b [M, 4+]."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-9)


def average_precision(dets: list[np.ndarray], gts: list[np.ndarray], cls: int, iou_min: float = 0.33) -> float:
    scored, total = [], 0
    for d, g in zip(dets, gts):
        d, g = d[d[:, 5] == cls], g[g[:, 4] == cls]
        total += len(g)
        used = np.zeros(len(g), bool)
        for k in np.argsort(-d[:, 4], kind='stable'):
            hit = False
            if len(g):
                o = iou(d[k:k + 1], g)[0]
                o[used] = -1
                m = int(np.argmax(o))
                if o[m] > iou_min:
                    used[m] = hit = True
            scored.append((d[k, 4], hit))
    if total == 0:
        return float('nan')
    scored.sort(key=lambda t: -t[0])
    hits = np.array([h for _, h in scored], float)
    tp, fp = np.cumsum(hits), np.cumsum(1 - hits)
    recall, precision = tp / total, tp / np.maximum(tp + fp, 1e-9)
    # All-point interpolation (VOC 2010+): area under the monotone precision envelope.
    r = np.concatenate([[0], recall, [recall[-1] if len(recall) else 0]])
    p = np.concatenate([[1], precision, [0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum((r[1:] - r[:-1]) * p[1:]))


def evaluate(outputs: list[np.ndarray], frames, threshold: float, box_threshold: float, max_boxes: int = 100) -> dict:
    logit, heat, size, offset, cam = outputs
    prob = 1 / (1 + np.exp(-logit[:, 0]))
    truth = np.array([f.defect for f in frames])
    pred = prob >= threshold
    dets = [decode(heat[k], size[k], offset[k], box_threshold, max_boxes) for k in range(len(frames))]
    gts = [f.boxes for f in frames]
    ap = {name: average_precision(dets, gts, c) for c, name in enumerate(CLASSES)}
    inside = []
    for k, f in enumerate(frames):
        if f.defect:
            peak = gradcam_peak(cam[k])
            b = f.boxes
            inside.append(peak is not None and bool(np.any((b[:, 0] <= peak[0]) & (peak[0] <= b[:, 2]) & (b[:, 1] <= peak[1]) & (peak[1] <= b[:, 3]))))
    box_any = np.array([len(d) > 0 for d in dets])
    return {
        'frames': int(len(frames)), 'defect_frames': int(truth.sum()),
        'accuracy': float((pred == truth).mean()),
        'defect_recall': float(pred[truth].mean()), 'false_reject_rate': float(pred[~truth].mean()),
        'box_verdict_accuracy': float((box_any == truth).mean()),
        'ap_iou033': ap, 'map_iou033': float(np.nanmean(list(ap.values()))),
        'gradcam_peak_in_box': float(np.mean(inside)) if inside else float('nan'),
    }


def pick_threshold(prob: np.ndarray, truth: np.ndarray, target_frr: float) -> float:
    """Lowest threshold (most defects caught) whose false-reject rate on PASS frames <= target."""
    passes = np.sort(prob[~truth])
    allowed = int(np.floor(target_frr * len(passes)))
    # Threshold just above the (allowed+1)-th highest PASS score.
    edge = passes[len(passes) - allowed - 1] if allowed < len(passes) else 0.0
    return float(min(0.99, np.nextafter(np.float32(edge), np.float32(1)) if edge > 0 else 0.5))
