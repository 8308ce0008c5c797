"""Probe: which checkpoint of a ``rul_vae`` training run to keep, and would averaging help?

Reads the per-epoch traces that ``rul_vae_sweep.py run --trace DIR`` writes (every epoch's
validation and test predictions and weights, up to where early stopping ended the run) and
scores, for each run, the test engines under several choices made from validation data only:

- ``val loss``: the epoch with the lowest validation loss (KL + MSE over every validation
  window), what the pipeline keeps (``EarlyStopping(restore_best_weights=True)``);
- ``val MSE before cap``: the lowest MSE over the validation windows below the RUL cap;
- ``top-k mean``: the mean prediction of the k epochs with the lowest validation loss;
- ``weights b..b+k``: one model whose weights are the mean of the best epoch's and the k
  epochs after it (stochastic weight averaging along the decaying learning rate);
- ``oracle``: the epoch with the lowest *test* RMSE, a bound on any checkpoint choice (it
  uses the test labels, so it is not a method).

    python research/rul_vae_checkpoint_probe.py --data .sweep/fd001.npz .sweep/trace/pipeline/base-*

Prints test RMSE / NASA score per run and choice, and the medians over runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def _model(arrays: dict):
    import keras
    from rul_vae_sweep import build_model

    model = build_model(arrays, json.loads(str(arrays["model"])), seed=0, y=arrays["y_train"])
    model(keras.ops.convert_to_tensor(arrays["x_train"][:2]))
    return model


def _averaged(model, files: list[Path]):
    weights = []
    for path in files:
        model.load_weights(path)
        weights.append(model.get_weights())
    model.set_weights([np.mean(group, axis=0) for group in zip(*weights)])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the arrays the traced runs trained on")
    parser.add_argument("--max-rul", type=float, default=125.0)
    parser.add_argument("--top-k", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--swa", type=int, nargs="+", default=[2, 4, 9], help="k of 'weights b..b+k'")
    parser.add_argument("runs", type=Path, nargs="+", help="trace folders, one per run")
    args = parser.parse_args()

    from autoencoder_pipelines.evaluation import nasa_score, rmse

    with np.load(args.data) as archive:
        arrays = {key: archive[key] for key in archive.files}
    model = _model(arrays)
    results: dict[str, list[tuple[float, float]]] = {}
    for run in args.runs:
        with np.load(run / "trace.npz") as trace:
            t = {key: trace[key] for key in trace.files}
        y_val, y_test = t["y_val"], t["y_test"]
        val_loss = t["val_loss"]
        epochs = len(val_loss)
        best = int(np.argmin(val_loss))
        below = y_val < args.max_rul
        val_mse_below = ((t["val_predicted"][:, below] - y_val[below]) ** 2).mean(axis=1)
        choices = {
            "val loss": t["test_predicted"][best],
            "val MSE before cap": t["test_predicted"][int(np.argmin(val_mse_below))],
        }
        order = np.argsort(val_loss)
        for k in args.top_k:
            choices[f"top-{k} mean"] = t["test_predicted"][order[:k]].mean(axis=0)
        for k in args.swa:
            last = min(best + k, epochs - 1)
            files = [run / f"epoch-{e + 1:03d}.weights.h5" for e in range(best, last + 1)]
            averaged = _averaged(model, files)
            choices[f"weights b..b+{k}"] = np.asarray(averaged.predict(arrays["x_test"], verbose=0)["rul"])
        test_rmse = np.sqrt(((t["test_predicted"] - y_test) ** 2).mean(axis=1))
        oracle = int(np.argmin(test_rmse))
        choices["oracle"] = t["test_predicted"][oracle]
        line = [
            f"{run.name} ({epochs} epochs, best {best + 1}, before-cap best {int(np.argmin(val_mse_below)) + 1}, "
            f"oracle {oracle + 1})"
        ]
        for name, predicted in choices.items():
            score = (rmse(y_test, predicted), nasa_score(y_test, predicted))
            results.setdefault(name, []).append(score)
            line.append(f"{name} {score[0]:.2f}/{score[1]:.0f}")
        print(" | ".join(line), flush=True)
    print("\n| choice | test RMSE per run | median RMSE | median score |\n|---|---|---|---|")
    for name, scores in results.items():
        print(
            f"| {name} | {' '.join(f'{r:.2f}' for r, _ in scores)} | "
            f"{statistics.median(r for r, _ in scores):.2f} | {statistics.median(s for _, s in scores):.0f} |"
        )


if __name__ == "__main__":
    main()
