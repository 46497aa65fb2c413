"""model.PerTagLogits: the exported per-tag logits are exactly the per-label softmax probabilities
(through a sigmoid), in corpus.tags_for order. A tiny random BERT, no pretrained weights."""

import pytest

torch = pytest.importorskip('torch')
transformers = pytest.importorskip('transformers')
from model import LegalNer, PerTagLogits  # noqa: E402


def test_sigmoid_of_each_tag_logit_is_its_label_softmax_probability():
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    net = LegalNer(transformers.BertModel(config, add_pooling_layer=False), n_tags=3 * 2, n_types=4).eval()
    with torch.no_grad():
        net.tagger.weight.mul_(20)  # confident logits, so the check is not near 1/3 everywhere
        ids, mask = torch.randint(0, 60, (2, 9)), torch.ones(2, 9, dtype=torch.int64)
        per_label = torch.softmax(net(ids, mask)[0].reshape(2, 9, 2, 3), -1)
        tags, _ = PerTagLogits(net)(ids, mask)
    assert tags.shape == (2, 9, 5)  # O, B-l0, I-l0, B-l1, I-l1
    p = torch.sigmoid(tags.double())
    for k in range(2):
        assert torch.allclose(p[..., 1 + 2 * k], per_label[..., k, 1].double(), atol=1e-5)
        assert torch.allclose(p[..., 2 + 2 * k], per_label[..., k, 2].double(), atol=1e-5)
    assert torch.allclose(p[..., 0], per_label[..., :, 0].min(-1).values.double(), atol=1e-5)
    assert float(per_label[..., 1:].max()) > 0.9
