"""Probe: how would down-weighting the windows at the RUL cap move the test error?

For every saved ``rul_vae`` run of a subset (``data/06_models/.../model.keras/<version>``),
keep its encoder frozen, refit a copy of its regressor head on the latent means of that
run's training windows with the windows at the cap weighted ``w`` (1 = as trained), and
report the test RMSE and NASA score of each ``w``. It is cheap (seconds per run, no
encoder training), so it only indicates the direction of the effect; the weight itself
is ``rul_vae.data.capped_window_weight`` and must be judged by full runs.

    python research/rul_vae_reweight_probe.py --weights 1 0.5 0.25 0.1 0
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pandas as pd

from autoencoder_pipelines.evaluation import nasa_score
from autoencoder_pipelines.models import model_classes

model_classes()  # registers the project's Keras classes, so the saved models load in safe mode

REPO = Path(__file__).resolve().parents[1]


def _load(folder: Path, version: str):
    (path,) = (folder / version).iterdir()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", default="FD001")
    parser.add_argument("--weights", type=float, nargs="+", default=[1.0, 0.5, 0.25, 0.1, 0.0])
    parser.add_argument("--max-rul", type=float, default=125.0)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()

    models = REPO / "data/06_models/rul_vae" / args.subset / "model.keras"
    inputs = REPO / "data/05_model_input/rul_vae" / args.subset
    outputs = REPO / "data/07_model_output/rul_vae" / args.subset
    rows = []
    for version in sorted(os.listdir(models)):
        model = keras.saving.load_model(_load(models, version))
        x_train = np.load(_load(inputs / "x_train.npy", version))
        y_train = np.load(_load(inputs / "y_train.npy", version)).ravel()
        x_test = np.load(_load(inputs / "x_test.npy", version))
        truth = pd.read_parquet(_load(outputs / "test_predictions.parquet", version))["true_rul_capped"].to_numpy()
        z_train, z_test = model.encode(x_train), model.encode(x_test)
        row = {"version": version}
        for weight in args.weights:
            keras.utils.set_random_seed(0)
            head = keras.models.clone_model(model.regressor)
            head.set_weights(model.regressor.get_weights())
            head.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
            sample_weight = np.where(y_train >= args.max_rul, weight, 1.0)
            head.fit(z_train, y_train, sample_weight=sample_weight, epochs=args.epochs, batch_size=256, verbose=0)
            predicted = head.predict(z_test, verbose=0).ravel()
            row[f"rmse w={weight:g}"] = float(np.sqrt(np.mean((predicted - truth) ** 2)))
            row[f"score w={weight:g}"] = float(nasa_score(truth, predicted))
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows).set_index("version")
    print(table.round(2).to_markdown())
    print("median", table.median().round(2).to_dict())


if __name__ == "__main__":
    main()
