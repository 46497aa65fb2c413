"""Plots loadtest/spark-scaling.ts results: training and scoring seconds against data size, one line
per worker count.  .venv/bin/python loadtest/plot_spark_scaling.py RESULTS.json OUT.png
(matplotlib is in models/requirements.txt, the training environment, not in the CI venv.)"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(results_path: str, out_path: str) -> None:
    report = json.load(open(results_path))
    rows = report["results"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for ax, key, title in ((axes[0], "trainSeconds", "training (features + CrossValidator)"), (axes[1], "scoreSeconds", "daily scoring")):
        for workers in sorted({r["workers"] for r in rows}):
            pts = sorted((r["events"] / 1e6, r[key]) for r in rows if r["workers"] == workers)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{workers} worker{'s' if workers > 1 else ''}")
        ax.set_title(title)
        ax.set_xlabel("events in the lake (millions)")
        ax.set_ylabel("seconds")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"SparkScale on {report['machine']['cpus']} cores ({report['date'][:10]})")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
