"""How far a `rul_vae` answer can be trusted: the figures behind docs/production.md.

Reads the newest `kedro run --pipeline=rul_vae` (or `rul_vae_retrain`) outputs in `data/`:
the model, its condition scaler, engine split, smoothed training engines and the
calibration the pipeline fitted (interval calibration, out-of-distribution detector,
drift reference). Then:

1. **Choosing, on validation only.** Leave one validation engine out: the intervals are
   calibrated on the other 19 and their coverage and width measured on the one left out
   (every cut point), for each interval variant (one width for all, or widths proportional
   to the ensemble's spread); the detector's threshold is set on the 19 and its flag rate
   read on the one, for two feature sets (the last cycle, the window's mean). Averaged over
   the 20 engines: what a new engine can expect.
   The drift rule is read on 300 batches of 100 validation cut points (no drift): the
   share of them it calls drift.
2. **Measuring, never choosing.** The pipeline's own calibration on FD001's test engines
   and on FD003's (another fleet, a second fault mode): interval coverage and width, the
   share flagged out of distribution, the share of the engines misjudged by more than 30
   cycles that are flagged, the ROC AUC of the score (misjudged FD003 engines against
   FD001's test engines), and each batch's drift verdict.

    CMAPSS_DATA_DIR=../shared/data/cmapss python research/rul_vae_trust_probe.py [--version TIMESTAMP] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from autoencoder_pipelines.data import cmapss, cmapss_files, schemas  # noqa: E402
from autoencoder_pipelines.data.config import CMAPSSConfig  # noqa: E402
from autoencoder_pipelines.inference import last_cycle, matching_rul, score_engines  # noqa: E402
from autoencoder_pipelines.monitoring import (  # noqa: E402
    DetectorConfig,
    DriftReference,
    MahalanobisDetector,
    drift_report,
    fit_mahalanobis,
)
from autoencoder_pipelines.uncertainty import IntervalConfig, RULIntervals, fit_rul_intervals  # noqa: E402

MISJUDGED = 30.0  # cycles


def newest(folder: Path, version: str | None = None) -> Path:
    """The file of a versioned dataset folder: the newest version written at or before
    ``version`` (a run's timestamp: every dataset a run writes carries it), or the newest."""
    versions = sorted(p for p in folder.iterdir() if p.is_dir() and (version is None or p.name <= version))
    return next(versions[-1].iterdir())


def load_run(subset: str, version: str | None = None):
    import keras

    from autoencoder_pipelines.models import model_classes

    model_classes()
    root = REPO / "data"
    model = keras.saving.load_model(newest(root / f"06_models/rul_vae/{subset}/model.keras", version))
    read = lambda name: json.loads(newest(root / f"06_models/rul_vae/{subset}/{name}.json", version).read_text())  # noqa: E731
    return {
        "model": model,
        "scaler": json.loads(newest(root / f"04_feature/rul_vae/{subset}/condition_scaler.json", version).read_text()),
        "split": json.loads(newest(root / f"05_model_input/rul_vae/{subset}/engine_split.json", version).read_text()),
        "train": pd.read_parquet(newest(root / f"04_feature/rul_vae/{subset}/train_smoothed.parquet", version)),
        "intervals": RULIntervals.model_validate(read("interval_calibration")),
        "ood": MahalanobisDetector.model_validate(read("ood_detector")),
        # the run's own: its windows are labelled with that model's estimates
        "drift": DriftReference.model_validate(
            json.loads(newest(root / f"06_models/rul_vae/{subset}/drift_reference.json", version).read_text())
        ),
    }


def choose_on_validation(run: dict, data: CMAPSSConfig) -> dict:
    """Leave-one-engine-out on the validation engines (see the module's docstring)."""
    units = np.asarray(run["split"]["validation_units"])
    engines = run["train"][run["train"]["unit_nr"].isin(units)]
    windows, truth, owner = cmapss.sliding_windows(engines, data.sensor_columns, data.window)
    outputs = run["model"].predict(windows, batch_size=1024, verbose=0)
    estimate, spread = outputs["rul"].astype(np.float64), np.asarray(outputs.get("rul_spread", np.zeros(len(truth))))
    fit_windows, _, _ = cmapss.sliding_windows(
        run["train"][run["train"]["unit_nr"].isin(run["split"]["train_units"])], data.sensor_columns, data.window
    )
    features = {
        "last cycle": (last_cycle(fit_windows, data.sensor_columns), last_cycle(windows, data.sensor_columns)),
        "window mean": tuple(pd.DataFrame(w.mean(axis=1), columns=list(data.sensor_columns)) for w in (fit_windows, windows)),
    }
    rows = []
    for left_out in units:
        calibrate, held = owner != left_out, owner == left_out
        for scale in ("none", "spread") if spread.any() else ("none",):
            fitted = fit_rul_intervals(
                truth[calibrate], estimate[calibrate], spread[calibrate], owner[calibrate], IntervalConfig(level=0.9, scale=scale)
            )
            lower, upper = fitted.bounds(estimate[held], spread[held], 0.0, data.max_rul)
            inside = (truth[held] >= lower) & (truth[held] <= upper)
            rows.append(
                {"what": f"interval, scale {scale}", "coverage": float(np.mean(inside)), "width": float(np.mean(upper - lower))}
            )
        for name, (fit_features, val_features) in features.items():
            detector = fit_mahalanobis(
                fit_features,
                val_features[calibrate],
                list(data.sensor_columns),
                DetectorConfig(false_flag_rate=0.05),
                owner[calibrate],
            )
            rows.append(
                {"what": f"detector, {name}", "flag_rate": float(np.mean(detector.flag(detector.score(val_features[held]))))}
            )
    # the drift rule on batches without drift: 100 cut points drawn from the validation engines
    # (300 draws, seeded), each matched to its predicted RUL as a scored batch is
    rng = np.random.default_rng(0)
    for _ in range(300):
        pick = rng.choice(len(windows), 100)
        answers = matching_rul(estimate[pick], run["model"].config.rul_offset)
        features = last_cycle(windows[pick], data.sensor_columns)
        flagged = run["ood"].flag(run["ood"].score_frame(features))
        report = drift_report(run["drift"], features, flagged, run["ood"].false_flag_rate, answers)
        rows.append({"what": "drift rule on validation batches", "false_drift_rate": float(report["verdict"] == "drift")})
    table = pd.DataFrame(rows).groupby("what").agg(["mean", "std"])
    return {k: {f"{m}_{s}": float(v) for (m, s), v in row.items() if not np.isnan(v)} for k, row in table.iterrows()}


def measure(run: dict, data: CMAPSSConfig, data_dir: Path, subset: str) -> dict:
    """The pipeline's calibration on the test engines of ``subset`` (see the module's docstring)."""
    name = f"test_{subset}.txt"
    engines = schemas.validate_engine_log(cmapss_files.read_engine_file((data_dir / name).read_bytes(), name), name)
    truth = np.loadtxt(data_dir / f"RUL_{subset}.txt")
    scored = score_engines(run["model"], engines, run["scaler"], data, name, run["intervals"], run["ood"])
    capped = np.minimum(truth, data.max_rul)
    error = scored["predicted_rul"].to_numpy() - capped
    misjudged = np.abs(error) > MISJUDGED
    upper_open = np.where(scored["rul_upper"] >= data.max_rul, np.inf, scored["rul_upper"])
    from autoencoder_pipelines.inference import engine_features

    windows, _ = engine_features(engines, run["scaler"], data, name)
    answers = matching_rul(scored["predicted_rul"], run["model"].config.rul_offset)
    drift = drift_report(
        run["drift"], last_cycle(windows, data.sensor_columns), scored["ood"].to_numpy(bool), run["ood"].false_flag_rate, answers
    )
    return {
        "engines": len(scored),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "interval_coverage": float(np.mean((capped >= scored["rul_lower"]) & (capped <= scored["rul_upper"]))),
        "interval_coverage_uncapped": float(np.mean((truth >= scored["rul_lower"]) & (truth <= upper_open))),
        "interval_mean_width": float(np.mean(scored["rul_upper"] - scored["rul_lower"])),
        "ood_share": float(scored["ood"].mean()),
        "misjudged": int(misjudged.sum()),
        "misjudged_late": int(np.sum(error > MISJUDGED)),
        "misjudged_flagged_share": float(scored["ood"][misjudged].mean()) if misjudged.any() else None,
        "correct_flagged_share": float(scored["ood"][~misjudged].mean()),
        "ood_scores": scored["ood_score"].round(3).tolist(),
        "misjudged_mask": misjudged.tolist(),
        "drift_verdict": drift["verdict"],
        "drifted_sensors": drift["drifted_features"],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("CMAPSS_DATA_DIR", REPO.parent / "shared/data/cmapss"))
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument(
        "--version", help="the run's version timestamp (data/06_models/rul_vae/FD001/model.keras/<version>); default: the newest"
    )
    args = parser.parse_args(argv)
    from sklearn.metrics import roc_auc_score

    run = load_run("FD001", args.version)
    data = _data_settings()
    result = {
        "validation": choose_on_validation(run, data),
        "calibration": {"intervals": run["intervals"].model_dump(), "ood_threshold": run["ood"].threshold},
        "FD001": measure(run, data, args.data_dir, "FD001"),
        "FD003": measure(run, data, args.data_dir, "FD003"),
    }
    fd1, fd3 = result["FD001"], result["FD003"]
    wrong = np.asarray(fd3["ood_scores"])[np.asarray(fd3["misjudged_mask"])]
    result["roc_auc_misjudged_fd003_vs_fd001"] = float(
        roc_auc_score(np.r_[np.zeros(len(fd1["ood_scores"])), np.ones(len(wrong))], np.r_[fd1["ood_scores"], wrong])
    )
    shown = {
        k: {kk: vv for kk, vv in v.items() if kk not in ("ood_scores", "misjudged_mask")} if isinstance(v, dict) else v
        for k, v in result.items()
    }
    print(json.dumps(shown, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


def _data_settings() -> CMAPSSConfig:
    """``params:rul_vae.data`` of conf/base, as the pipeline read it."""
    from kedro.config import OmegaConfigLoader

    from autoencoder_pipelines.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(REPO / "conf"), env="local", **CONFIG_LOADER_ARGS)
    return CMAPSSConfig(**loader["parameters"]["rul_vae"]["data"])


if __name__ == "__main__":
    main()
