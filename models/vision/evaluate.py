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
    # As the stream does (postprocess.ts): boxes only on frames with a DEFECT verdict.
    dets = [decode(heat[k], size[k], offset[k], box_threshold, max_boxes) if pred[k] else np.zeros((0, 6), np.float32)
            for k in range(len(frames))]
    gts = [f.boxes for f in frames]
    ap = {name: average_precision(dets, gts, c) for c, name in enumerate(CLASSES)}
    inside = []
    for k, f in enumerate(frames):
        if f.defect:
            peak = gradcam_peak(cam[k])
            b = f.boxes
            inside.append(peak is not None and bool(np.any((b[:, 0] <= peak[0]) & (peak[0] <= b[:, 2]) & (b[:, 1] <= peak[1]) & (peak[1] <= b[:, 3]))))
    # ROC AUC of the image score (Mann-Whitney: share of DEFECT/PASS pairs ranked right, ties half).
    pos, neg = prob[truth][:, None], prob[~truth][None, :]
    auc = float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / max(pos.size * neg.size, 1))
    return {
        'frames': int(len(frames)), 'defect_frames': int(truth.sum()),
        'accuracy': float((pred == truth).mean()), 'auc': auc,
        'defect_recall': float(pred[truth].mean()), 'false_reject_rate': float(pred[~truth].mean()),
        'ap_iou033': ap, 'map_iou033': float(np.nanmean(list(ap.values()))),
        'gradcam_peak_in_box': float(np.mean(inside)) if inside else float('nan'),
    }


def pick_threshold(prob: np.ndarray, truth: np.ndarray, min_recall: float) -> dict:
    """Image threshold for high recall of defects: among cut points that keep the DEFECT recall >=
    min_recall, the one with the fewest false rejects, placed mid-way (in logit space) between the
    two scores around it so an unseen board has the widest margin. Returns it with the rates it gives."""
    logit = np.log(np.clip(prob, 1e-7, 1 - 1e-7) / np.clip(1 - prob, 1e-7, 1))
    s = np.unique(logit)
    cuts = np.concatenate([[s[0] - 1], (s[1:] + s[:-1]) / 2, [s[-1] + 1]])
    best = None
    for c in cuts:
        recall = float((logit[truth] >= c).mean())
        frr = float((logit[~truth] >= c).mean())
        if recall >= min_recall and (best is None or frr < best[1] - 1e-12 or (abs(frr - best[1]) < 1e-12 and recall > best[2])):
            best = (c, frr, recall)
    c = best[0]
    return {'threshold': float(1 / (1 + np.exp(-c))), 'val_false_reject_rate': best[1], 'val_defect_recall': best[2]}


def pick_box_threshold(outputs: list[np.ndarray], frames, threshold: float, candidates=(0.1, 0.15, 0.2, 0.3, 0.4)) -> dict:
    """Box score threshold with the best mAP on validation, boxes on DEFECT verdicts only (as the
    stream reports them). 0.05 is not a candidate: ~27 faint boxes per clean board is noise."""
    best = None
    for t in candidates:
        m = evaluate(outputs, frames, threshold, t)
        if best is None or m['map_iou033'] > best['val_map_iou033'] + 1e-9:
            best = {'box_threshold': t, 'val_map_iou033': m['map_iou033']}
    return best


def choose_thresholds(outputs: list[np.ndarray], frames, min_recall: float) -> dict:
    """The image and box thresholds for validation outputs (train.py's last step, finalize.py)."""
    prob = 1 / (1 + np.exp(-outputs[0][:, 0]))
    truth = np.array([f.defect for f in frames])
    image = pick_threshold(prob, truth, min_recall)
    return {**image, **pick_box_threshold(outputs, frames, image['threshold']), 'min_defect_recall': min_recall}


def gradcam_boxes(cam: np.ndarray, probability: float, level: float = 0.5, scale: float = 1.0) -> np.ndarray:
    """Boxes from Grad-CAM alone (the coarse alternative to the box head): connected regions of the
    normalised map >= level, each boxed, scored by probability x the region's peak; class -1."""
    from scipy import ndimage

    if cam.max() <= 0:
        return np.zeros((0, 6), np.float32)
    norm = cam / cam.max()
    labels, count = ndimage.label(norm >= level)
    out = []
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        ys, xs = sl
        peak = float(norm[sl][labels[sl] == k].max())
        out.append([xs.start * STRIDE * scale, ys.start * STRIDE * scale, xs.stop * STRIDE * scale, ys.stop * STRIDE * scale,
                    probability * peak, -1])
    return np.array(out, np.float32).reshape(-1, 6)


def class_agnostic_ap(dets: list[np.ndarray], gts: list[np.ndarray], iou_min: float = 0.33) -> float:
    """AP when only the location counts (every box and every truth relabelled as one class)."""
    d = [np.concatenate([x[:, :5], np.zeros((len(x), 1), np.float32)], 1) for x in dets]
    g = [np.concatenate([x[:, :4], np.zeros((len(x), 1), np.float32)], 1) for x in gts]
    return average_precision(d, g, 0, iou_min)


def localisation_report(outputs: list[np.ndarray], frames, box_threshold: float) -> dict:
    logit, heat, size, offset, cam = outputs
    prob = 1 / (1 + np.exp(-logit[:, 0]))
    defect = [k for k, f in enumerate(frames) if f.defect]
    gts = [frames[k].boxes for k in defect]
    head = [decode(heat[k], size[k], offset[k], box_threshold, 100) for k in defect]
    cams = {level: [gradcam_boxes(cam[k], float(prob[k]), level) for k in defect] for level in (0.3, 0.5)}
    return {'box_head_class_agnostic_ap': class_agnostic_ap(head, gts),
            **{f'gradcam_level{level}_class_agnostic_ap': class_agnostic_ap(b, gts) for level, b in cams.items()}}
