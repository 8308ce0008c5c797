"""Probe: which validation error of a saved ``rul_vae`` run predicts its test RMSE?

For every saved run of a subset (``data/06_models/rul_vae/<subset>/model.keras/<version>``),
predicts that run's own validation windows and prints the validation RMSE over all windows
(what the default validation loss measures, with the KL term), over the windows before the
RUL cap only, and over the windows with RUL < 100, next to the run's test RMSE and its mean
error (predicted - true) on the test engines 50-100 cycles from failure. No training.

It also estimates, without the test labels, the share of test engines above the cap: a
test engine observed for L cycles, if its lifetime T is drawn like the training engines'
lifetimes, is above the cap with probability P(T >= L + cap | T > L). That is what a
capped-window weight chosen without the test set could be based on.

    CMAPSS_DATA_DIR=../shared/data/cmapss python research/rul_vae_validation_probe.py
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from autoencoder_pipelines.data.cmapss import engine_lengths
from autoencoder_pipelines.data.cmapss_files import read_engine_file
from autoencoder_pipelines.data.schemas import validate_engine_log
from autoencoder_pipelines.models import model_classes

model_classes()  # registers the project's Keras classes, so the saved models load in safe mode

REPO = Path(__file__).resolve().parents[1]


def _only(folder: Path) -> Path:
    (path,) = folder.iterdir()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", default="FD001")
    parser.add_argument("--max-rul", type=float, default=125.0)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("CMAPSS_DATA_DIR", REPO.parent / "shared/data/cmapss"))
    )
    args = parser.parse_args()

    models = REPO / "data/06_models/rul_vae" / args.subset / "model.keras"
    inputs = REPO / "data/05_model_input/rul_vae" / args.subset
    reports = REPO / "data/08_reporting/rul_vae" / args.subset / "metrics.json"
    predictions = REPO / "data/07_model_output/rul_vae" / args.subset / "test_predictions.parquet"
    rows = []
    for version in sorted(os.listdir(models)):
        model = keras.saving.load_model(_only(models / version))
        x_val = np.load(_only(inputs / "x_val.npy" / version))
        y_val = np.load(_only(inputs / "y_val.npy" / version)).ravel()
        error = np.asarray(model.predict(x_val, batch_size=2048, verbose=0)["rul"]).ravel() - y_val
        metrics = json.loads(_only(reports / version).read_text())
        test = pd.read_parquet(_only(predictions / version))
        band = test["true_rul_capped"].between(50, 100)
        y_train = np.load(_only(inputs / "y_train.npy" / version)).ravel()
        rows.append(
            {
                "version": version,
                "test RMSE": metrics["rmse"],
                "val RMSE, all windows": float(np.sqrt(np.mean(error**2))),
                "val RMSE, before the cap": float(np.sqrt(np.mean(error[y_val < args.max_rul] ** 2))),
                "val RMSE, RUL < 100": float(np.sqrt(np.mean(error[y_val < 100] ** 2))),
                "test bias, RUL 50-100": float((test["predicted_rul"] - test["true_rul_capped"])[band].mean()),
            }
        )
    table = pd.DataFrame(rows).set_index("version")
    print(table.round(2).to_markdown())
    print(
        f"training windows at the cap: {np.mean(y_train >= args.max_rul):.1%}; "
        f"test engines above the cap: {(test['true_rul'] > args.max_rul).sum()} of {len(test)}"
    )
    train_file = args.data_dir / f"train_{args.subset}.txt"
    lifetimes = engine_lengths(validate_engine_log(read_engine_file(train_file.read_bytes(), str(train_file)), str(train_file)))
    lengths = test["n_cycles"].to_numpy()
    above = [np.mean(lifetimes[lifetimes > n] >= n + args.max_rul) for n in lengths]
    share, capped = np.mean(above), np.mean(y_train >= args.max_rul)
    print(
        f"test engines above the cap, estimated from the training lifetimes and the test lengths "
        f"without test labels: {share:.1%}; capped-window weight that gives the training windows that "
        f"share: {share * (1 - capped) / (capped * (1 - share)):.2f}"
    )
    for column in table.columns[1:4]:
        rho = spearmanr(table[column], table["test RMSE"]).statistic
        print(f"Spearman rank correlation of '{column}' with the test RMSE: {rho:.2f}")


if __name__ == "__main__":
    main()
