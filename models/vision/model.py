"""PCB QC network: the pretrained MobileNetV2 (backbone.py) cut at stride 16, a small feature-pyramid
neck and CenterNet-style box heads, plus an image-level defect score and its Grad-CAM, all computed
in the same forward pass, so the exported ONNX graph yields everything the stream needs.

Image score: S = LSE over every class and cell of the centre-heatmap logits, a smooth maximum of
"there is a defect centre here" (r = LSE_SHARPNESS). It is built on the densely supervised box head
on purpose: a separate head trained from image labels alone (tried first) lit up on clean boards'
own marks and ragged silkscreen that the centre head, supervised at every cell, learned to ignore.

Grad-CAM (Selvaraju et al.) of S w.r.t. the fused feature map A: alpha_k = mean_ij dS/dA_k(ij),
cam = ReLU(sum_k alpha_k A_k). The centre head is z = W2 ReLU(conv3x3(A) + b1) + b2, so
dS/dz = softmax(r z) (over classes and cells), dS/dh = W2^T softmax(r z) gated by 1[h_pre > 0],
and dS/dA = conv_transpose3x3(dS/dh, W1): closed form, a few tensor ops, exact (the tests hold it
to torch.autograd and to the grad-cam package)."""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from backbone import MobileNetV2

CLASSES = ['open', 'short', 'mousebite', 'spur', 'copper', 'pin-hole']
# Checkpoints from before the image score moved onto the centre head carry these; they are unused.
RETIRED_PREFIXES = ('defect_hidden.', 'defect_out.')
INPUT_SIZE = 640  # frame pixels fed to the graph; it averages 2x2 down to the backbone's 320
STRIDE = 16  # frame pixels per cell of the heads' grid (backbone stride 8 at 320)
LSE_SHARPNESS = 4.0
# Backbone cut points (indices into MobileNetV2.features): after block 5 (32 ch, stride 8 of the
# backbone input) and block 12 (96 ch, stride 16). Blocks 13.. (stride 32, 160+ ch) are dropped:
# defects are 10-60 px and need fine cells more than a large receptive field.
C4_END, C8_END, C16_END = 4, 7, 14
FEATURES = 64


def head(cout: int, bias: float = 0.0) -> nn.Sequential:
    last = nn.Conv2d(FEATURES, cout, 1)
    nn.init.constant_(last.bias, bias)
    return nn.Sequential(nn.Conv2d(FEATURES, FEATURES, 3, padding=1), nn.ReLU(), last)


class PcbQcNet(nn.Module):
    def __init__(self, backbone: MobileNetV2):
        super().__init__()
        feats = backbone.features
        self.stem4 = nn.Sequential(*feats[:C4_END])  # -> 24 ch at stride 4
        self.stem8 = nn.Sequential(*feats[C4_END:C8_END])  # -> 32 ch at stride 8
        self.upper = nn.Sequential(*feats[C8_END:C16_END])  # -> 96 ch at stride 16
        self.lateral8 = nn.Sequential(nn.Conv2d(32, FEATURES, 1), nn.BatchNorm2d(FEATURES))
        self.lateral16 = nn.Sequential(nn.Conv2d(96, FEATURES, 1), nn.BatchNorm2d(FEATURES))
        # Fine detail (stride 4: 4 frame px per cell before the pooling) tells a spur from a mouse
        # bite or a pin-hole. Its BN starts at zero, so adding the branch leaves a trained net as it was.
        self.lateral4 = nn.Sequential(
            nn.Conv2d(24, 24, 3, stride=2, padding=1, groups=24), nn.Conv2d(24, FEATURES, 1), nn.BatchNorm2d(FEATURES))
        nn.init.zeros_(self.lateral4[2].weight)
        self.fuse = nn.Sequential(
            nn.Conv2d(FEATURES, FEATURES, 3, padding=1, groups=FEATURES), nn.Conv2d(FEATURES, FEATURES, 1),
            nn.BatchNorm2d(FEATURES), nn.ReLU())
        # -2.19 = logit(0.1): the CenterNet prior, so early focal loss is not swamped by background.
        self.center = head(len(CLASSES), -2.19)
        self.size = head(2)
        self.offset = head(2)

    def backbone_parameters(self, from_block: int = 0):
        """Parameters of backbone blocks >= from_block (0 = stem conv), for freezing / fine-tuning."""
        blocks = list(self.stem4) + list(self.stem8) + list(self.upper)
        return [p for b in blocks[from_block:] for p in b.parameters()]

    def features(self, image: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(image, 2) * 2 - 1  # 640 -> 320, [0, 1] -> the backbone's [-1, 1]
        x = x.expand(-1, 3, -1, -1)
        c4 = self.stem4(x)
        c8 = self.stem8(c4)
        c16 = self.upper(c8)
        p = self.lateral4(c4) + self.lateral8(c8) + F.interpolate(self.lateral16(c16), scale_factor=2, mode='nearest')
        return self.fuse(p)

    def forward(self, image: torch.Tensor):
        """Training outputs: centre logits, log sizes, offsets, the image-level defect logit, features."""
        feats = self.features(image)
        center = self.center(feats)
        return center, self.size(feats), self.offset(feats), image_score(center), feats


def image_score(center_logits: torch.Tensor) -> torch.Tensor:
    """[N, 1]: smooth maximum over classes and cells of the centre logits."""
    return torch.logsumexp(LSE_SHARPNESS * center_logits.flatten(1), 1, keepdim=True) / LSE_SHARPNESS


def gradcam_closed_form(net: PcbQcNet, feats: torch.Tensor) -> torch.Tensor:
    """Grad-CAM of the image score w.r.t. `feats`, without autograd: [N, H, W], >= 0."""
    conv3, _, conv1 = net.center
    h_pre = conv3(feats)
    z = conv1(F.relu(h_pre))
    n = z.shape[0]
    p = torch.softmax(LSE_SHARPNESS * z.reshape(n, -1), 1).reshape(z.shape)  # dS/dz
    g_h = torch.einsum('nchw,cm->nmhw', p, conv1.weight[:, :, 0, 0]) * (h_pre > 0).to(feats.dtype)  # dS/dh_pre
    grads = F.conv_transpose2d(g_h, conv3.weight, padding=1)  # dS/dA
    alpha = grads.mean((2, 3), keepdim=True)
    return F.relu((alpha * feats).sum(1))


def upgrade_state_dict(state: dict) -> dict:
    """Checkpoints from before the stride-4 branch: `stem.N` was blocks 0-6 in one Sequential."""
    out = {}
    for k, v in state.items():
        if k.startswith('stem.'):
            n, rest = k[5:].split('.', 1)
            k = f'stem4.{n}.{rest}' if int(n) < C4_END else f'stem8.{int(n) - C4_END}.{rest}'
        out[k] = v
    return out


class ExportedPcbQc(nn.Module):
    """The graph that ships: one pass -> every output of the contract in vision-contract (README)."""

    def __init__(self, net: PcbQcNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor):
        center, size, offset, defect_logit, feats = self.net(image)
        return (defect_logit, torch.sigmoid(center), torch.exp(size.clamp(max=8.0)) * STRIDE,
                torch.sigmoid(offset), gradcam_closed_form(self.net, feats))


OUTPUT_NAMES = ['defect_logit', 'center_heatmap', 'box_size', 'box_offset', 'gradcam']
