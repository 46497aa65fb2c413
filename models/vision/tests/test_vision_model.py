import numpy as np
import pytest
import torch

from conftest import DEEPPCB, TFLITE


@pytest.fixture(scope='module')
def net():
    from backbone import load_tflite_mobilenet_v2
    from model import PcbQcNet
    torch.manual_seed(0)
    n = PcbQcNet(load_tflite_mobilenet_v2(str(TFLITE)))
    # Random heads, so the Grad-CAM identity is checked on a non-trivial gradient.
    for p in n.center.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return n.eval()


def test_dequantised_backbone_reads_imagenet_photos():
    from backbone import check_imagenet
    got = {name: label for name, label, _ in check_imagenet(str(TFLITE), str(TFLITE.parent))}
    assert got['bird.bmp'] == 'chickadee'
    assert got['parrot.jpg'] == 'macaw'
    assert got['hot_dog.jpg'].startswith('hotdog')


def test_closed_form_gradcam_equals_autograd_and_the_grad_cam_package(net):
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from model import gradcam_closed_form, image_score
    from make_gradcam_fixture import autograd_gradcam, normalised
    x = torch.rand(2, 1, 640, 640)
    with torch.no_grad():
        closed = gradcam_closed_form(net, net.features(x)).numpy()
    for k in range(2):
        cam, _ = autograd_gradcam(net, x[k:k + 1])
        assert np.abs(normalised(cam) - normalised(closed[k])).max() < 1e-4

    class Score(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, image):
            return image_score(self.n.center(self.n.features(image)))

    # The package min-max scales the map and resizes it to the input; do the same to ours. In float64,
    # so what is compared is the method, not float32 rounding of two summation orders.
    import copy
    import cv2
    net64 = copy.deepcopy(net).double()
    with torch.no_grad():
        closed64 = gradcam_closed_form(net64, net64.features(x[:1].double()))[0].numpy()
    with GradCAM(model=Score(net64), target_layers=[net64.fuse]) as cam_lib:
        lib = cam_lib(input_tensor=x[:1].double(), targets=[ClassifierOutputTarget(0)])[0]
    # As the package does: scale_cam_image (min-max, then cv2.resize) per layer, then min-max again.
    scale = lambda m: (m - m.min()) / (1e-7 + (m - m.min()).max())  # noqa: E731
    ours = scale(cv2.resize(np.float32(scale(closed64)), (640, 640)))
    assert np.abs(lib - ours).max() < 1e-4


def test_augmentation_moves_boxes_with_the_pixels():
    from targets import augment
    rng = np.random.default_rng(3)
    for _ in range(20):
        img = torch.zeros(1, 1, 320, 320)
        img[0, 0, 40:80, 200:260] = 1.0  # a bright box: x 200..260, y 40..80
        boxes = [np.array([[200, 40, 260, 80, 2]], np.float32)]
        out, ob = augment(img, boxes, rng)
        x1, y1, x2, y2, _ = ob[0][0]
        inside = out[0, 0, int(y1) + 3:int(y2) - 3, int(x1) + 3:int(x2) - 3]
        assert inside.numel() > 0
        # Lighting changes levels, so compare the box with the rest of the frame.
        mask = torch.ones_like(out[0, 0], dtype=torch.bool)
        mask[int(y1):int(y2) + 1, int(x1):int(x2) + 1] = False
        assert inside.mean() > out[0, 0][mask].mean() + 0.2


def test_targets_put_each_box_centre_on_its_cell():
    from targets import build_targets
    heat, reg, mask, label = build_targets([np.array([[100, 200, 140, 230, 3]], np.float32), np.zeros((0, 5), np.float32)], 640)
    assert heat.shape == (2, 6, 40, 40)
    assert heat[0, 3, 215 // 16, 120 // 16] == 1.0 and mask.sum() == 1
    assert label.tolist() == [[1.0], [0.0]]
    assert torch.allclose(torch.exp(reg[0, :2, 13, 7]) * 16, torch.tensor([40.0, 30.0]))


def test_average_precision_of_perfect_and_missing_detections():
    from evaluate import average_precision
    gt = [np.array([[0, 0, 10, 10, 1], [20, 20, 30, 30, 1]], np.float32)]
    perfect = [np.array([[0, 0, 10, 10, 0.9, 1], [20, 20, 30, 30, 0.8, 1]], np.float32)]
    half = [np.array([[0, 0, 10, 10, 0.9, 1], [50, 50, 60, 60, 0.95, 1]], np.float32)]
    assert average_precision(perfect, gt, 1) == pytest.approx(1.0)
    assert average_precision(half, gt, 1) == pytest.approx(0.25)


def test_onnx_export_matches_torch(net, tmp_path):
    from export import check_onnx, export_onnx
    export_onnx(net, tmp_path / 'm.onnx')
    report = check_onnx(net, tmp_path / 'm.onnx', np.random.default_rng(0).random((1, 1, 640, 640)))
    assert max(report.values()) < 1e-4


@pytest.mark.skipif(not DEEPPCB.exists(), reason='DeepPCB not present')
def test_group_splits_are_disjoint():
    from data import SPLITS, frames
    seen = {s: {f.path for f in frames(DEEPPCB, s)} for s in SPLITS}
    assert not (seen['train'] & seen['val']) and not (seen['train'] & seen['test']) and not (seen['val'] & seen['test'])
