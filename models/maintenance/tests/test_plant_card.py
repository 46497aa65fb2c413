"""plant_card.py: the card of a committed plant model names its version and its test numbers
(streamscore's promotion gate refuses a version whose card does not name it)."""
import json
from pathlib import Path

from plant_card import plant_card

PLANTS = Path(__file__).resolve().parents[1] / "plants"


def test_each_committed_plant_card_is_the_one_its_metrics_give():
    for folder in sorted(p for p in PLANTS.iterdir() if (p / "model-meta.json").exists()):
        meta = json.loads((folder / "model-meta.json").read_text())
        metrics = json.loads((folder / "metrics.json").read_text())
        card = (folder / "MODEL_CARD.md").read_text()
        assert card == plant_card(meta, metrics), f"{folder.name}: rerun models/maintenance/plant_card.py {folder}"
        assert meta["model_version"] in card
        assert f"{metrics['models']['lgbm']['test_pr_auc']:.3f}" in card
