"""DeepPCB pairs as tensors: each template image is a PASS frame (no boxes), its test image a DEFECT
frame with its boxes. Splits are by DeepPCB group (a group is one board design scanned together),
so no board in validation or test shares a design with training."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

# Groups of the published trainval list. Tuning (epochs, thresholds) uses VAL only; TEST is read
# once, after everything is fixed, for the model card.
SPLITS = {
    'train': ['group00041', 'group13000', 'group20085', 'group92000'],
    'val': ['group77000'],
    'test': ['group44000', 'group50600'],
}


@dataclass
class Frame:
    path: Path
    group: str
    defect: bool
    boxes: np.ndarray  # [K, 5]: x1, y1, x2, y2 (frame pixels), class index 0..5


def read_pairs(root: Path, list_file: str = 'trainval.txt') -> list[tuple[Path, Path, np.ndarray]]:
    """(test image, template image, boxes) per line of DeepPCB's list file."""
    pairs = []
    for line in (root / list_file).read_text().split('\n'):
        if not line.strip():
            continue
        image, labels = line.split()
        stem = root / image[:-len('.jpg')]
        rows = [r.replace(',', ' ').split() for r in (root / labels).read_text().splitlines() if r.strip()]
        boxes = np.array([[float(v) for v in r[:5]] for r in rows], dtype=np.float32).reshape(-1, 5)
        boxes[:, 4] -= 1  # DeepPCB classes are 1..6
        pairs.append((Path(f'{stem}_test.jpg'), Path(f'{stem}_temp.jpg'), boxes))
    return pairs


def frames(root: Path, split: str) -> list[Frame]:
    out = []
    for test, template, boxes in read_pairs(root):
        group = test.parts[len(root.parts)]
        if group in SPLITS[split]:
            out.append(Frame(test, group, True, boxes))
            out.append(Frame(template, group, False, np.zeros((0, 5), np.float32)))
    if not out:
        raise ValueError(f'no DeepPCB frames for split {split} under {root}')
    return out


def load_gray(path: Path, size: int = 640) -> np.ndarray:
    img = Image.open(path).convert('L')
    if img.size != (size, size):
        raise ValueError(f'{path}: {img.size[0]}x{img.size[1]}, expected {size}x{size}')
    return np.asarray(img, dtype=np.uint8)


def load_split(root: Path, split: str) -> tuple[np.ndarray, list[Frame]]:
    fs = frames(root, split)
    return np.stack([load_gray(f.path) for f in fs]), fs
