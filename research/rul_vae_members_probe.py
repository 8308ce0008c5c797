"""Probe: how many members does a saved ``rul_vae`` ensemble need, judged on validation?

For every saved ensemble of a subset (``data/06_models/rul_vae/<subset>/model.keras/<version>``),
scores its first 1, 2, ... members as an ensemble on the run's validation windows: the
offset refitted on those windows for each count (``evaluation.nasa_offset``, as the
``fit_rul_offset`` node does), every member's estimate offset and clipped before the mean (as
``models.Ensemble.predict``). A k-member run trains exactly the first k members of a larger
run of the same seed (member i's seed depends only on the run's seed and i), so this is the
validation figure a k-member run would have. The test engines are not read. No training.

    python research/rul_vae_members_probe.py            # in a project that has run rul_vae
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from autoencoder_pipelines.evaluation import nasa_offset, nasa_score
from autoencoder_pipelines.models import model_classes


def _latest(folder: Path, name: str) -> Path:
    """The newest version of a versioned dataset ``folder/name/<version>/name``."""
    versions = sorted((folder / name).glob(f"*/{name}"))
    if not versions:
        raise SystemExit(f"no saved {name} under {folder / name}: run `kedro run --pipeline=rul_vae` first")
    return versions[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."), help="the project whose data/ holds the runs")
    parser.add_argument("--subset", default="FD001")
    args = parser.parse_args()
    model_classes()  # registers the saved classes
    inputs = args.project / "data/05_model_input/rul_vae" / args.subset
    x, y = np.load(_latest(inputs, "x_val.npy")), np.load(_latest(inputs, "y_val.npy"))
    high = float(y.max())
    print("version | seeds | members | validation RMSE without -> with the offset | NASA score per window | offset")
    models = sorted((args.project / "data/06_models/rul_vae" / args.subset / "model.keras").glob("*/model.keras"))
    if not models:
        raise SystemExit(f"no saved rul_vae model under {args.project / 'data/06_models/rul_vae' / args.subset}")
    for path in models:
        model = keras.models.load_model(path, safe_mode=True)
        members = getattr(model, "members", [model])
        raw = np.stack([member.raw_rul(x) for member in members])
        for k in range(1, len(members) + 1):
            offset = nasa_offset(y, raw[:k], 0.0, high)
            estimate = np.clip(raw[:k] + offset, 0.0, high).mean(0)
            unshifted = np.clip(raw[:k], 0.0, high).mean(0)
            print(
                f"{path.parent.name} | {getattr(model, 'seeds', '?')} | {k} | "
                f"{np.sqrt(np.mean((unshifted - y) ** 2)):.2f} -> {np.sqrt(np.mean((estimate - y) ** 2)):.2f} | "
                f"{nasa_score(y, estimate) / len(y):.3f} | {offset:+.1f}"
            )


if __name__ == "__main__":
    main()
