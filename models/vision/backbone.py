"""ImageNet-pretrained MobileNetV2 (1.0, 224) rebuilt in PyTorch from the quantised TFLite file in
../shared/data/imagenet-tflite-coral: weights are dequantised (scale * (q - zero_point)); batch norm
is already folded into each convolution's bias there, so every conv here has a bias and no BN.
TensorFlow's SAME padding pads stride-2 convolutions on the bottom/right only; `TfSamePad` does the
same, so the dequantised network reproduces the TFLite classifier (checked in `check_imagenet`)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

# (expansion t, output channels c, repeats n, first stride s): MobileNetV2 table 2.
BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class TfSamePad(nn.Module):
    """3x3 conv padding as TensorFlow's SAME: symmetric for stride 1, bottom/right only for stride 2."""

    def __init__(self, stride: int):
        super().__init__()
        self.pad = (1, 1, 1, 1) if stride == 1 else (0, 1, 0, 1)

    def forward(self, x):
        return F.pad(x, self.pad)


def conv(cin, cout, k=1, stride=1, groups=1, relu=True) -> nn.Sequential:
    layers: list[nn.Module] = [TfSamePad(stride)] if k == 3 else []
    layers.append(nn.Conv2d(cin, cout, k, stride, 0, groups=groups, bias=True))
    if relu:
        layers.append(nn.ReLU6(inplace=False))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [] if t == 1 else [conv(cin, hidden)]
        layers += [conv(hidden, hidden, 3, stride, groups=hidden), conv(hidden, cout, relu=False)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """Input: NCHW float in [-1, 1] (the TFLite model's uint8 input, (q - 128) / 128)."""

    def __init__(self, classes: int = 1001):
        super().__init__()
        blocks: list[nn.Module] = [conv(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in BLOCKS:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        blocks.append(conv(cin, 1280))
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Conv2d(1280, classes, 1)

    def forward(self, x):
        x = self.features(x).mean((2, 3), keepdim=True)
        return self.classifier(x).flatten(1)


def _conv_ops(path: str):
    """(weights, bias) of every CONV_2D / DEPTHWISE_CONV_2D in execution order, dequantised."""
    import tflite  # parse-time only: the training venv has it, the runtime never needs it

    model = tflite.Model.GetRootAsModel(open(path, 'rb').read(), 0)
    graph = model.Subgraphs(0)
    wanted = {tflite.BuiltinOperator.CONV_2D: 'conv', tflite.BuiltinOperator.DEPTHWISE_CONV_2D: 'dw'}

    def tensor(i):
        t = graph.Tensors(i)
        raw = model.Buffers(t.Buffer()).DataAsNumpy()
        q = t.Quantization()
        dtype = np.uint8 if t.Type() == tflite.TensorType.UINT8 else np.int32
        data = np.frombuffer(raw.tobytes(), dtype=dtype).reshape(t.ShapeAsNumpy()).astype(np.float32)
        scale, zero = q.ScaleAsNumpy(), q.ZeroPointAsNumpy()
        shape = (-1,) + (1,) * (data.ndim - 1) if np.size(scale) > 1 else ()
        return (data - np.reshape(zero, shape) if np.size(zero) > 1 else data - zero) * np.reshape(scale, shape)

    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = wanted.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
        if kind:
            inputs = op.InputsAsNumpy()
            ops.append((kind, tensor(inputs[1]), tensor(inputs[2])))
    return ops


def load_tflite_mobilenet_v2(path: str) -> MobileNetV2:
    net = MobileNetV2()
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    ops = _conv_ops(path)
    if len(ops) != len(convs):
        raise ValueError(f'{path}: {len(ops)} conv ops, MobileNetV2 has {len(convs)} convolutions')
    for module, (kind, w, b) in zip(convs, ops):
        # TFLite: conv [out, kh, kw, in], depthwise [1, kh, kw, out]; PyTorch: [out, in/groups, kh, kw].
        w = w.transpose(3, 0, 1, 2) if kind == 'dw' else w.transpose(0, 3, 1, 2)
        if tuple(w.shape) != tuple(module.weight.shape):
            raise ValueError(f'weight shape {w.shape} does not fit {tuple(module.weight.shape)}')
        module.weight.data = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
        module.bias.data = torch.from_numpy(b.astype(np.float32))
    return net


def check_imagenet(path: str, images_dir: str) -> list[tuple[str, str, float]]:
    """Top-1 ImageNet label of the bundled test photos: proves the weights were read correctly."""
    from pathlib import Path
    from PIL import Image

    net = load_tflite_mobilenet_v2(path).eval()
    labels = (Path(images_dir) / 'imagenet_labels.txt').read_text().splitlines()
    out = []
    for name in ['cat.bmp', 'bird.bmp', 'grace_hopper.bmp', 'parrot.jpg', 'owl.jpg', 'hot_dog.jpg']:
        img = Image.open(Path(images_dir) / name).convert('RGB').resize((224, 224), Image.BILINEAR)
        x = torch.from_numpy(np.asarray(img, np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
        with torch.no_grad():
            p = torch.softmax(net(x), 1)[0]
        i = int(p.argmax())
        out.append((name, labels[i], float(p[i])))
    return out


if __name__ == '__main__':
    import sys
    d = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/imagenet-tflite-coral'
    for row in check_imagenet(f'{d}/mobilenet_v2_1.0_224_quant.tflite', d):
        print(*row, sep='\t')
