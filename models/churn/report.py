"""What a training run leaves behind besides the model: data hash, code version, the formatted
physical plan with the bottleneck read from it, model-meta.json and MODEL_CARD.md."""
from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import time
from contextlib import redirect_stdout
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features import CATEGORICAL_FEATURES, LABEL_HORIZON_DAYS, NUMERIC_FEATURES, features_as_of
from spark_session import REPO


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def code_version() -> dict:
    # The run's own outputs (artifacts/, the card) do not make the code dirty.
    dirty = git("status", "--porcelain", "--", "models/churn", ":!models/churn/artifacts", ":!models/churn/MODEL_CARD.md")
    return {"commit": git("rev-parse", "HEAD"), "short": git("rev-parse", "--short=7", "HEAD"),
            "models_churn_dirty": bool(dirty and dirty != "unknown")}


def lake_files_hash(events_dir: Path, through: date) -> dict:
    """sha256 of the sorted (path, size) list of the lake files in partitions up to ``through``:
    the files a training run read. Sizes, not contents: the sink never rewrites a file in place."""
    lines = []
    for path in sorted(events_dir.rglob("*")):
        part = next((p for p in path.relative_to(events_dir).parts if p.startswith("event_date=")), None)
        if path.is_file() and part and part[len("event_date="):] <= through.isoformat() and not path.name.startswith((".", "_")):
            lines.append(f"{path.relative_to(events_dir).as_posix()}\t{path.stat().st_size}\n")
    return {"files": len(lines), "bytes": sum(int(line.split("\t")[1]) for line in lines),
            "sha256": hashlib.sha256("".join(lines).encode()).hexdigest(), "through_event_date": through.isoformat()}


def formatted_plan(df: DataFrame) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):  # DataFrame.explain prints; it has no return-a-string mode
        df.explain(mode="formatted")
    return buf.getvalue()


def plan_facts(plan: str) -> dict:
    """Exchanges and scans of a formatted plan, from its per-node detail sections."""
    nodes = re.split(r"\n(?=\(\d+\) )", plan)
    exchanges = [re.search(r"Arguments: (.*)", n).group(1) for n in nodes if re.match(r"\(\d+\) Exchange", n) and "Arguments:" in n]
    scans = [n for n in nodes if re.match(r"\(\d+\) Scan ", n)]
    partition_filters = sorted({re.sub(r"#\d+", "", m.group(1)) for n in scans for m in [re.search(r"PartitionFilters: (.*)", n)] if m})
    sorts = [re.search(r"Arguments: \[(.*?)\]", n).group(1) for n in nodes if re.match(r"\(\d+\) Sort\n", n) and "Arguments:" in n]
    read_schema = next((m.group(1) for n in scans for m in [re.search(r"ReadSchema: (.*)", n)] if m), "")
    return {"exchanges": exchanges, "sorts": sorts, "scans": len(scans), "partition_filters": partition_filters,
            "read_columns": len(re.findall(r"(\w+):", read_schema)),
            "aggregates": sorted(set(re.findall(r"\(\d+\) (\w*Aggregate)", plan)))}


def _noop_seconds(df: DataFrame) -> float:
    started = time.perf_counter()
    df.write.format("noop").mode("overwrite").save()  # runs the whole plan, writes nothing
    return time.perf_counter() - started


def profile_feature_plan(events: DataFrame, cutoffs: list[date]) -> dict:
    """Seconds each step of the feature plan adds, from timing growing prefixes of it (run on a warm
    JVM): the scan, the shuffle by user, the event_id de-duplication, the per-user aggregation."""
    read = events.where(F.col("event_date") <= F.lit(max(cutoffs) + timedelta(days=LABEL_HORIZON_DAYS)))
    shuffled = read.repartition("user_id")
    totals = [_noop_seconds(read), _noop_seconds(shuffled), _noop_seconds(shuffled.dropDuplicates(["user_id", "event_id"])),
              _noop_seconds(features_as_of(events, cutoffs, with_label=True))]
    steps = [totals[0]] + [max(0.0, b - a) for a, b in zip(totals, totals[1:])]
    return {name: round(v, 3) for name, v in zip(PROFILE_STEPS, steps)}


PROFILE_STEPS = ("scan", "shuffle", "dedup", "aggregate")
STEP_WHY = {
    "scan": "opening, reading and decoding the Parquet files up to the last label day{files}: per-file costs (footer, "
            "column chunks) dominate when the sink has written many small files",
    "shuffle": "the `Exchange hashpartitioning(user_id)`: every event row serialized, spilled to local disk and fetched by user, "
               "since the event_id de-duplication needs all of a user's rows in one partition (no partial aggregation can shrink it)",
    "dedup": "the `Sort` of every event row by (user_id, event_id) for the `SortAggregate` that drops duplicate event_ids "
             "(its string columns keep it off the hash aggregate)",
    "aggregate": "the `ObjectHashAggregate` by (user_id, cutoff_date): every event row, once per cut-off (`Generate`), through "
                 "about twenty conditional aggregates, some with object buffers (collect_list, mode, max of structs)",
}


def _without_ids(plan_text: str) -> str:
    return re.sub(r"#[0-9]+|, \[plan_id=[0-9]+\]", "", plan_text)


def bottleneck(facts: dict, profile: dict | None, timings: dict, data: dict | None = None) -> str:
    """The cost paragraph of the card: the plan's shape, the measured step times and the largest
    step named with why it costs. ``data``: lake_files_hash of the files read."""
    parts = [f"The feature plan ([physical-plan.txt](artifacts/physical-plan.txt)) has {facts['scans']} Parquet scan(s) "
             f"(partition filter {' / '.join(f'`{f}`' for f in facts['partition_filters']) or 'none'}; {facts['read_columns']} columns read), "
             f"{len(facts['exchanges'])} Exchange(s) (`{_without_ids(facts['exchanges'][0]) if facts['exchanges'] else ''}`), "
             f"{len(facts['sorts'])} Sort(s) and the aggregates {', '.join(facts['aggregates'])}: one shuffle of the raw events, "
             "after which de-duplication and the per-user aggregation for all cut-offs run in the same partitions."]
    files = (f" ({data['files']:,} files, {data['bytes'] / 1e6:.1f} MB, {data['bytes'] / max(data['files'], 1) / 1e3:.0f} kB a file)"
             if data else "")
    if profile:
        total = sum(profile.values()) or 1.0
        main = max(profile, key=profile.get)
        parts.append("Timed step by step (growing prefixes of that plan, warm JVM): "
                     + ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f} %)" for k, v in profile.items()) + ". "
                     f"**Main bottleneck: {main}** — {STEP_WHY[main].format(files=files)}.")
    else:
        parts.append("The plan was not timed step by step (--no-profile).")
    features_s = timings.get("feature table", 0.0)
    tuning_s = sum(v for k, v in timings.items() if k.startswith(("tune ", "threshold and held-out ")))
    parts.append(f"Whole run: the feature table (all cut-offs) took {features_s:.1f} s, tuning, thresholds and held-out evaluation of "
                 f"both models on the cached table {tuning_s:.1f} s, so at this data size the run as a whole is bound by "
                 + ("model tuning (many small Spark jobs per fit, not data volume)." if tuning_s > features_s else "the feature build."))
    return " ".join(parts)


def write_meta(path: Path, meta: dict) -> None:
    path.write_text(json.dumps(meta, indent=2, default=str) + "\n")


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _num(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _choice_note(metrics: dict, chosen: str) -> str:
    other = next(k for k in metrics if k != chosen)
    gap = metrics[chosen]["cv_area_under_pr"] - metrics[other]["cv_area_under_pr"]
    spread = max(metrics[chosen]["cv_area_under_pr_std"], metrics[other]["cv_area_under_pr_std"])
    held = {k: metrics[k]["heldout"]["areaUnderPR"] for k in (chosen, other)}
    if gap >= spread:
        return (f"{metrics[chosen]['estimator']} leads by {gap:.3f} CV AUC-PR, more than the spread over folds ({spread:.3f}); "
                f"held out: {held[chosen]:.3f} against {held[other]:.3f}.")
    return (f"The lead of {gap:.3f} CV AUC-PR is within the spread over folds ({spread:.3f}): the two models are not told apart "
            f"by this data, and the choice is close to a coin toss (held out: {held[chosen]:.3f} against {held[other]:.3f}).")


def model_card(meta: dict) -> str:
    m, chosen = meta["metrics"], meta["chosen"]
    bal, rows = meta["class_balance"], meta["row_counts"]
    data = meta["training_data"]
    lines = [
        f"# Model card: `{meta['model_name']}` (SparkScale churn)", "",
        "| | |", "| --- | --- |",
        f"| Model | {meta['estimator']} in one Spark ML PipelineModel, params {json.dumps(meta['params'])} |",
        f"| Version | `{meta['model_version']}` ([artifacts/model-meta.json](artifacts/model-meta.json)) |",
        f"| Code version | `{meta['code_version']['commit']}`" + (" (models/churn had uncommitted changes)" if meta["code_version"]["models_churn_dirty"] else "") + " |",
        f"| Date | {meta['created'][:10]} |",
        f"| Training data | `{data['lake']}`: {data['files']:,} files, {data['bytes'] / 1e6:.1f} MB up to event_date {data['through_event_date']}, "
        f"sha256 of the file list and sizes `{data['sha256']}` |",
        f"| Data | {meta['data_description']} |",
        f"| Cut-offs | {', '.join(meta['cutoffs'])} (label: CANCELLATION within 30 days after each"
        + ("" if meta["label_window_complete"] else "; **the lake ends before the last label window does: labels are incomplete**") + ") |",
        f"| Spark | {meta['spark']['version']} on `{meta['spark']['master']}` |", "",
        "## Intended use",
        "Scores every active subscriber once a day (`score.py --date D`) with the probability of a CANCELLATION in the 30 days",
        "after `D`, for retention campaigns run by people. Scores go to `telecom/churn_predictions` and, by the publisher, to",
        "`telecom.churn-predictions.v1`. Not for decisions about individual customers without human review.", "",
        "## Data",
        f"Events read ({rows['events']['rows']:,} rows):", "",
        "| event_type | rows | first | last |", "| --- | ---: | --- | --- |",
        *[f"| {k} | {v['rows']:,} | {v['first']} | {v['last']} |" for k, v in rows["events"]["by_event_type"].items()], "",
        "One row per subscriber and cut-off; subscribers cancelled on or before the cut-off are dropped. Users are split by a hash",
        f"of `user_id`: {100 - meta['split']['heldout_percent']} % train (cross-validated over {meta['split']['folds']} user folds), "
        f"{meta['split']['heldout_percent']} % held out; no user is on both sides.", "",
        "| cut-off | subscribers with events | cancelled before (dropped) | rows | churners in next 30 days |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {c} | {v['users']:,} | {v['cancelled_by_cutoff']:,} | {v['rows']:,} | {v['positives']:,} ({_pct(v['positive_rate'])}) |"
          for c, v in rows["per_cutoff"].items()], "",
        "| split | rows | users | positives | positive rate |", "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {k} | {v['rows']:,} | {v['users']:,} | {v['positives']:,} | {_pct(v['positive_rate'])} |" for k, v in bal.items()], "",
        "## Features",
        f"Numeric: {', '.join(f'`{f}`' for f in NUMERIC_FEATURES)}. Categorical (StringIndexer with an unknown slot, one-hot): "
        f"{', '.join(f'`{f}`' for f in CATEGORICAL_FEATURES)}. Definitions: the docstring of [features.py](features.py). "
        "`avg_bill_amount_last3` is median-imputed inside the pipeline (no bill yet).", "",
        "## Metrics",
        f"Tuning: {meta['split']['folds']}-fold cross-validation over user folds on areaUnderPR. The model is chosen on the "
        "cross-validated areaUnderPR, so the held-out numbers below did not take part in any choice. The threshold is the one with the "
        "best F1 on out-of-fold predictions of the training users (0.01 grid); held-out precision and recall are at that threshold.", "",
        "| model | best params | CV AUC-PR (± std over folds) | held-out AUC-ROC | held-out AUC-PR | threshold | held-out precision | held-out recall | flagged |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {'**' + v['estimator'] + '** (chosen)' if k == chosen else v['estimator']} | {json.dumps(v['params'])} | {_num(v['cv_area_under_pr'])} ± {_num(v['cv_area_under_pr_std'])} "
          f"| {_num(v['heldout']['areaUnderROC'])} | {_num(v['heldout']['areaUnderPR'])} | {v['threshold']:.2f} "
          f"| {_pct(v['heldout']['at_threshold']['precision'])} | {_pct(v['heldout']['at_threshold']['recall'])} "
          f"| {v['heldout']['at_threshold']['flagged']:,} / {v['heldout']['at_threshold']['rows']:,} |" for k, v in m.items()], "",
        f"Held-out base rate: {_pct(bal['heldout']['positive_rate'])} (the AUC-PR of a random ranking). {_choice_note(m, chosen)}", "",
        "## Cost and bottleneck",
        meta["bottleneck"], "",
        "Stage timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in meta["timings_s"].items()) + ".", "",
        "## Daily scoring",
        "`score.py` adds to each score: `segment` = the latest plan, `high_value` = average of the last 3 bills in the top 20 % of",
        "that day's scored subscribers, and `top_reasons` = up to 3 short strings from simple rules on the aggregates (recent",
        "complaints, late payments, month-to-month plan, calls or data down against the prior 60 days, inactivity, electronic",
        "check, short tenure). The reasons are rules, not explanations of the model's score.", "",
        "## Limitations",
        "- The data (above) decides what these numbers mean: read them as results on that data only.",
        "- The held-out users come from the same cut-offs as training (a user split, not a later period): no out-of-time test.",
        "- Trained without class weights, so scores keep the training base rate, but neither model was calibrated: the random",
        "  forest's probability is an average of leaf frequencies. The threshold balances precision and recall by F1; a",
        "  retention team's capacity may call for another.",
        "- Events with the same event_id count once (producer retries); events arriving after a score ran are not in it.",
        "- A user's history starts at their first event in the lake: tenure is capped by how far back the lake goes.",
        *(["- One cut-off: every training row describes the same day, so the model has seen one state of the customer base."]
          if len(meta["cutoffs"]) == 1 else []), "",
        "## How to retrain",
        "```bash",
        f".venv/bin/python models/churn/train.py --lake {data['lake']} --cutoff {' --cutoff '.join(meta['cutoffs'])} --master spark://127.0.0.1:7077",
        "```",
        "Writes `models/churn/artifacts/` (pipeline-model/, model-meta.json, physical-plan.txt) and this card.",
    ]
    return "\n".join(lines) + "\n"
