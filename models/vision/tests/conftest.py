import sys
from pathlib import Path

import pytest

# Training-side tests need PyTorch, which CI does not install (models/vision/requirements.txt).
pytest.importorskip('torch')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
SHARED = Path(__file__).resolve().parents[3] / '..' / 'shared' / 'data'
TFLITE = SHARED / 'imagenet-tflite-coral' / 'mobilenet_v2_1.0_224_quant.tflite'
DEEPPCB = SHARED / 'deeppcb' / 'PCBData'
