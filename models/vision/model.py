"""PCB QC network: the pretrained MobileNetV2 (backbone.py) cut at stride 16, a small feature-pyramid
neck, CenterNet-style box heads and an image-level defect head, plus Grad-CAM of the defect score
computed in the same forward pass, so the exported ONNX graph yields everything the stream needs.

Grad-CAM (Selvaraju et al.) of score S w.r.t. feature map A: alpha_k = mean_ij dS/dA_k(ij),
cam = ReLU(sum_k alpha_k A_k). The defect head is S = LSE-pool_ij( w2 . ReLU(W1 A_ij + b1) + b2 )
with LSE-pool(d) = log(sum_ij exp(r d_ij)) / r, so dS/dA_ij = softmax(r d)_ij * W1^T (1[z_ij > 0] * w2):
closed form, a few tensor ops, and exact (test_gradcam.py holds it to autograd)."""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from backbone import MobileNetV2, conv

CLASSES = ['open', 'short', 'mousebite', 'spur', 'copper', 'pin-hole']
INPUT_SIZE = 640  # frame pixels fed to the graph; it averages 2x2 down to the backbone's 320
STRIDE = 16  # frame pixels per cell of the heads' grid (backbone stride 8 at 320)
LSE_SHARPNESS = 4.0
# Backbone cut points (indices into MobileNetV2.features): after block 5 (32 ch, stride 8 of the
# backbone input) and block 12 (96 ch, stride 16). Blocks 13.. (stride 32, 160+ ch) are dropped:
# defects are 10-60 px and need fine cells more than a large receptive field.
C4_END, C8_END, C16_END = 4, 7, 14
FEATURES = 64
HIDDEN = 32


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
        self.defect_hidden = nn.Conv2d(FEATURES, HIDDEN, 1)
        self.defect_out = nn.Conv2d(HIDDEN, 1, 1)

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

    def defect_map(self, feats: torch.Tensor):
        z = self.defect_hidden(feats)
        return z, self.defect_out(F.relu(z))

    def forward(self, image: torch.Tensor):
        """Training outputs: centre logits, log sizes, offsets, image-level defect logit, features,
        and the per-cell defect map the logit pools (densely supervised too, see targets.losses)."""
        feats = self.features(image)
        _, d = self.defect_map(feats)
        return self.center(feats), self.size(feats), self.offset(feats), lse_pool(d), feats, d


def lse_pool(d: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(LSE_SHARPNESS * d.flatten(1), 1, keepdim=True) / LSE_SHARPNESS


def gradcam_closed_form(net: PcbQcNet, feats: torch.Tensor) -> torch.Tensor:
    """Grad-CAM of the defect logit w.r.t. `feats`, without autograd: [N, H, W], >= 0."""
    z, d = net.defect_map(feats)
    n, _, h, w = d.shape
    p = torch.softmax(LSE_SHARPNESS * d.reshape(n, -1), 1).reshape(n, 1, h, w)  # dS/dd_ij
    gate = (z > 0).to(feats.dtype) * net.defect_out.weight.reshape(1, HIDDEN, 1, 1)  # dd/dz
    w1 = net.defect_hidden.weight.reshape(HIDDEN, FEATURES)  # dz/dA
    grads = torch.einsum('nmhw,mk->nkhw', gate, w1) * p
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
        center, size, offset, defect_logit, feats, _ = self.net(image)
        return (defect_logit, torch.sigmoid(center), torch.exp(size.clamp(max=8.0)) * STRIDE,
                torch.sigmoid(offset), gradcam_closed_form(self.net, feats))


OUTPUT_NAMES = ['defect_logit', 'center_heatmap', 'box_size', 'box_offset', 'gradcam']
