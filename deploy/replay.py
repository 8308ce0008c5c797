"""A replay: the real C-MAPSS files turned into a history, run through the production
pipelines date by date, as production would run them.

    python deploy/replay.py --data-dir ../shared/data/cmapss --out replay

FD001's 100 training engines arrive over five dates (40, then 15 a date) as dated
partitions (``<out>/arrivals/<date>/failed_FD001.txt``); the third date's partition is
poisoned (a sensor value no engine can have) and must be quarantined. At each date:

0. the delivery is validated on arrival, as the arrivals watcher does (the ingestion stage:
   a partition that breaks the schema is quarantined, its report beside it); then the
   retraining rule of the scheduled DAG (``scheduling.retraining_check``): retrain only
   when something new arrived (a partition neither in the champion's lineage nor
   quarantined) or the last drift report recommends it; otherwise the date records
   "nothing new";
1. ``kedro run --env=replay --pipeline=rul_vae_retrain``: a challenger trained on every
   engine that arrived so far (less those the seeded hash holds out for evaluation), scored
   beside the champion on the evaluation engines (the test file's and the held-out
   arrivals'), promoted by the paired bootstrap;
2. ``kedro run --env=replay --pipeline=rul_inference`` on the engines in service that date
   (FD001's test engines, a fleet of mixed ages: each seen up to a share of its log that
   differs between engines and dates), with its drift report; on the last date also on
   another fleet's engines (``test_FD003.txt``).

Output, versioned under ``<out>/timeline/<timestamp>/`` and logged to the replay's MLflow
(a run named ``replay``): a timeline table (``timeline.csv``, ``timeline.md``) and figure
(``timeline.png``) of the champion's evaluation RMSE per date with its 95% bootstrap
interval, the promotions, the quarantined arrival and the drift verdicts.

The replay is its own Kedro project folder (``<out>/project``: this project's ``conf/`` and
``pyproject.toml``, the installed package), with its own ``data/`` and MLflow database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATES = ("2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02")
SHARES = (40, 15, 15, 15, 15)  # training engines arriving each date
POISONED = 2  # the index of the date whose partition is poisoned
REPORTS = Path("data/08_reporting/rul_vae/FD001")
INGESTION = "rul_vae.ingestion"


def newest(folder: Path) -> Path:
    """The file of the newest version of a versioned dataset folder."""
    version = sorted(p for p in folder.iterdir() if p.is_dir())[-1]
    return next(version.iterdir())


def write_history(data_dir: Path, arrivals: Path) -> None:
    """The five dated partitions of FD001's training engines and the engines in service."""
    from autoencoder_pipelines.data.cmapss import COLUMNS

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(data_dir / name, sep=r"\s+", header=None, names=list(COLUMNS))

    train, in_service = read("train_FD001.txt"), read("test_FD001.txt")
    bounds = np.cumsum((0, *SHARES))
    for i, date in enumerate(DATES):
        folder = arrivals / date
        folder.mkdir(parents=True, exist_ok=True)
        part = train[train["unit_nr"].between(bounds[i] + 1, bounds[i + 1])].copy()
        if i == POISONED:
            part.iloc[7, part.columns.get_loc("s_4")] = 1e308  # no engine reads this
        part.to_csv(folder / "failed_FD001.txt", sep=" ", header=False, index=False)
        # the engines in service, a fleet of mixed ages: engine u seen, on date i, up to
        # ((u + i) mod 5 + 1) / 5 of its log (at least one cycle); each date, other ages
        length = in_service.groupby("unit_nr")["time_cycles"].transform("max")
        share = ((in_service["unit_nr"] + i) % len(DATES) + 1) / len(DATES)
        seen = in_service[in_service["time_cycles"] <= np.maximum(1, np.ceil(length * share))]
        seen.to_csv(folder / "in_service_FD001.txt", sep=" ", header=False, index=False)


def kedro(project: Path, env: dict, *args: str) -> float:
    """``kedro run --env=replay <args>`` in the replay's project; its wall time in seconds."""
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env=replay", *args], cwd=project, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"kedro run {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return time.monotonic() - start


def retraining_check(project: Path, env: dict) -> dict:
    """The scheduled DAG's first task (``scheduling.retraining_check``), in the replay's project."""
    script = (
        "import json, sys; from autoencoder_pipelines.scheduling import retraining_check; "
        f"print(json.dumps(retraining_check({str(project)!r}, 'rul_vae_retrain', 'replay')))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"retraining check failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def rmse_interval(scores: pd.Series, samples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """The RMSE of squared errors and its 95% percentile-bootstrap interval over the engines."""
    values = scores.to_numpy(np.float64)
    draws = values[np.random.default_rng(seed).integers(0, len(values), (samples, len(values)))]
    lower, upper = np.quantile(np.sqrt(draws.mean(axis=1)), [0.025, 0.975])
    return float(np.sqrt(values.mean())), float(lower), float(upper)


def date_row(project: Path, date: str, arrived: int) -> dict:
    """What one date's retraining decided, and the champion's evaluation figures after it."""
    decision = json.loads(newest(project / REPORTS / "promotion_decision.json").read_text())
    lineage = json.loads(newest(project / REPORTS / "lineage.json").read_text())
    challenger = pd.read_parquet(newest(project / "data/07_model_output/rul_vae/FD001/test_item_scores.parquet"))
    champion_items = pd.read_parquet(newest(project / REPORTS / "champion_item_scores.parquet"))
    promoted = bool(decision["promote"])
    # the champion after the decision: the challenger if promoted, else the one that stayed
    scores = challenger if promoted or champion_items.empty else champion_items
    rmse, lower, upper = rmse_interval(scores["score"])
    trained = sum(entry["engines"] for entry in lineage["partitions"]["train"])
    return {
        "date": date,
        "engines arrived": arrived,
        "trained on": trained,
        "evaluation engines": len(scores),
        "quarantined": lineage["quarantined"],
        "challenger RMSE": decision["challenger"],
        "decision": ("promoted" if promoted else "kept")
        + (
            ""
            if decision["interval"] is None
            else " (improvement {:+.2f}, 95% [{:+.2f}, {:+.2f}])".format(decision["improvement"], *decision["interval"])
        ),
        "champion RMSE": rmse,
        "champion RMSE low": lower,
        "champion RMSE high": upper,
    }


def drift_verdict(project: Path) -> str:
    """The newest batch's verdict, its flagged engines, and how many sensors moved."""
    report = json.loads(newest(project / "data/08_reporting/rul_inference/FD001/drift_report.json").read_text())
    return (
        f"{report['verdict']} ({report['flagged']}/{report['n_current']} flagged, p = {report['flag_pvalue']:.2g}; "
        f"{len(report['drifted_features'])}/{len(report['features'])} sensors moved)"
        + (", retraining recommended" if report["retraining_recommended"] else "")
    )


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table of ``table``'s rows, as docs/production.md shows it."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def figure(timeline: pd.DataFrame):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(timeline))
    rmse = timeline["champion RMSE"].to_numpy()
    ax.errorbar(
        x,
        rmse,
        yerr=[rmse - timeline["champion RMSE low"], timeline["champion RMSE high"] - rmse],
        fmt="o-",
        color="black",
        capsize=4,
        label="champion's evaluation RMSE (95% interval)",
    )
    for i, row in timeline.iterrows():
        if row["decision"].startswith("promoted"):
            ax.annotate(
                "promoted", (i, row["champion RMSE"]), textcoords="offset points", xytext=(0, 12), ha="center", color="tab:green"
            )
        if row["quarantined"] != "none" and row["quarantined"].split("/")[0] == row["date"]:
            ax.annotate(
                "arrival quarantined",
                (i, row["champion RMSE"]),
                textcoords="offset points",
                xytext=(0, -20),
                ha="center",
                color="tab:red",
            )
        ax.annotate(
            f"in service: {row['in-service drift'].split(' (')[0]}",
            (i, row["champion RMSE high"]),
            textcoords="offset points",
            xytext=(0, 26),
            ha="center",
            fontsize=8,
            color="tab:blue",
        )
    if "FD003 drift" in timeline and timeline["FD003 drift"].iloc[-1]:
        ax.annotate(
            f"FD003: {timeline['FD003 drift'].iloc[-1]}",
            (len(timeline) - 1, rmse[-1]),
            textcoords="offset points",
            xytext=(-10, -40),
            ha="right",
            fontsize=8,
            color="tab:red",
        )
    ax.set_xticks(x, [f"{d}\n{n} arrived" for d, n in zip(timeline["date"], timeline["engines arrived"])])
    ax.set_ylabel("RMSE, cycles")
    ax.set_title("Replay of FD001 arriving over five dates: the champion on the evaluation engines")
    ax.set_ylim(0, max(timeline["champion RMSE high"].max() * 1.35, 1))
    ax.legend(loc="lower left")
    return fig


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("CMAPSS_DATA_DIR", REPO.parent / "shared/data/cmapss"))
    )
    parser.add_argument("--out", type=Path, default=REPO / "replay", help="the replay's folder (made anew)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    project = out / "project"
    shutil.copytree(REPO / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", project)
    shutil.copy(REPO / ".telemetry", project)
    arrivals = out / "arrivals"
    env = {
        **os.environ,
        "CMAPSS_DATA_DIR": str(args.data_dir.resolve()),
        "CMAPSS_ARRIVALS_DIR": str(arrivals),
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        "KEDRO_DISABLE_TELEMETRY": "1",
    }
    write_history(args.data_dir, out / "history")
    rows = []
    for i, date in enumerate(DATES):
        shutil.copytree(out / "history" / date, arrivals / date)  # the date's delivery lands
        # validated on arrival (the watcher DAG's step): the ingestion stage quarantines a bad partition
        kedro(project, env, "--pipeline=rul_vae_retrain", f"--namespaces={INGESTION}")
        check = retraining_check(project, env)
        if check["retrain"]:
            seconds = kedro(project, env, "--pipeline=rul_vae_retrain")
            row = date_row(project, date, SHARES[i])
        else:  # as the DAG would: recorded, nothing retrained; the champion's figures stand
            seconds = 0.0
            lineage = json.loads(newest(project / REPORTS / "lineage.json").read_text())
            quarantined = sorted(
                p.parent.name + "/" + p.name.removesuffix(".quarantine.json") for p in arrivals.glob("*/*.quarantine.json")
            )
            row = {
                **rows[-1],
                "date": date,
                "engines arrived": SHARES[i],
                "challenger RMSE": float("nan"),
                "quarantined": ";".join(quarantined) or lineage["quarantined"],
                "decision": f"not retrained: {check['reason']}",
            }
        kedro(project, env, "--pipeline=rul_inference", f"--params=engines_file={arrivals / date / 'in_service_FD001.txt'}")
        row["in-service drift"] = drift_verdict(project)
        row["FD003 drift"] = ""
        if i == len(DATES) - 1:
            kedro(project, env, "--pipeline=rul_inference", f"--params=engines_file={args.data_dir.resolve() / 'test_FD003.txt'}")
            row["FD003 drift"] = drift_verdict(project)
        row["retraining s"] = round(seconds)
        rows.append(row)
        print(json.dumps(row), flush=True)
    timeline = pd.DataFrame(rows)
    folder = out / "timeline" / (datetime.now(timezone.utc).strftime("%Y-%m-%dT%H.%M.%S.%f")[:-3] + "Z")
    folder.mkdir(parents=True)
    timeline.to_csv(folder / "timeline.csv", index=False)
    shown = timeline.assign(
        **{
            "champion RMSE": [
                f"{r:.2f} [{lo:.2f}, {hi:.2f}]"
                for r, lo, hi in zip(timeline["champion RMSE"], timeline["champion RMSE low"], timeline["champion RMSE high"])
            ],
            "challenger RMSE": timeline["challenger RMSE"].map(lambda v: "—" if np.isnan(v) else f"{v:.2f}"),
        }
    ).drop(columns=["champion RMSE low", "champion RMSE high"])
    (folder / "timeline.md").write_text(markdown(shown) + f"\n\nWall time {time.monotonic() - started:.0f} s.\n")
    figure(timeline).savefig(folder / "timeline.png", dpi=110)
    import mlflow

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment("autoencoder_pipelines")
    with mlflow.start_run(run_name="replay"):
        mlflow.log_artifacts(str(folder), artifact_path="timeline")
        mlflow.log_metric("wall_time_s", time.monotonic() - started)
    print(markdown(shown))
    print(f"timeline: {folder}; wall time {time.monotonic() - started:.0f} s")
    return timeline


if __name__ == "__main__":
    main()
