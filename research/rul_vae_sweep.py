"""Compare ``rul_vae`` training recipes on FD001: several recipes x several seeds, in parallel.

The ``rul_vae`` pipeline is the reference; this script only searches for the recipe to
put in ``conf/base``, where each CPU run takes 15-30 minutes. It trains the pipeline's
own model (:class:`RecurrentVAE`) on the pipeline's own windows with ``keras`` ``fit``,
Adam (optionally with a per-epoch decay) and early stopping restoring the best weights,
then scores the last window of every test engine (RMSE and NASA score, truth capped).

Three steps, so that the training can run on a machine that has Keras but not
TensorFlow (a GPU machine with JAX, ``KERAS_BACKEND=jax``):

    # 1. the windows, from the pipeline's preprocessing nodes (needs the project installed)
    CMAPSS_DATA_DIR=../shared/data/cmapss python research/rul_vae_sweep.py prepare --out .sweep/fd001.npz
    # 2. every recipe x seed, a process each, results as JSON lines
    python research/rul_vae_sweep.py run --data .sweep/fd001.npz --recipes base ref --seeds 42 43 44 \
        --jobs 6 --out .sweep/results.jsonl
    # 3. the table: median over seeds per recipe
    python research/rul_vae_sweep.py table .sweep/results.jsonl

Runs on different backends or devices do not give the same numbers for the same seed;
compare recipes within one sweep, then confirm the chosen one with ``kedro run``
(``research/rul_vae_seeds.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Training recipes: what differs from conf/base (batch 128, Adam, early stopping on val_loss).
RECIPES: dict[str, dict] = {
    # conf/base at the time of writing
    "base": {"learning_rate": 1e-3, "lr_decay": 0.95, "patience": 20, "epochs": 200},
    # the study's reference code: Adam 1e-4, constant, patience 30, hundreds of epochs
    "ref": {"learning_rate": 1e-4, "lr_decay": 1.0, "patience": 30, "epochs": 600},
    "mid": {"learning_rate": 3e-4, "lr_decay": 0.98, "patience": 30, "epochs": 400},
    "slow_decay": {"learning_rate": 1e-3, "lr_decay": 0.98, "patience": 30, "epochs": 400},
    "decoder": {"learning_rate": 1e-3, "lr_decay": 0.95, "patience": 20, "epochs": 200, "decoder": True},
    "batch64": {"learning_rate": 5e-4, "lr_decay": 0.97, "patience": 30, "epochs": 300, "batch_size": 64},
    # every training engine (train + validation windows), a fixed number of epochs, no early stopping
    "all_engines_20": {"learning_rate": 1e-3, "lr_decay": 0.95, "patience": 0, "epochs": 20, "all_engines": True},
    "all_engines_30": {"learning_rate": 1e-3, "lr_decay": 0.95, "patience": 0, "epochs": 30, "all_engines": True},
    # weight averaging: Adam's exponential moving average of the weights (per step), used
    # for validation, early stopping and the final model
    "ema99": {"learning_rate": 1e-3, "lr_decay": 0.95, "patience": 20, "epochs": 200, "ema_momentum": 0.99},
    "ema999": {"learning_rate": 1e-3, "lr_decay": 0.95, "patience": 20, "epochs": 200, "ema_momentum": 0.999},
    "kl_half": {"learning_rate": 1e-3, "lr_decay": 0.95, "patience": 20, "epochs": 200, "kl_weight": 0.5},
}
# a stronger information bottleneck (beta-VAE): at weight 1 the KL term ends near 7 nats against
# a validation MSE of ~216 cycles^2, so it hardly limits what the 2-D code carries
RECIPES["kl5"] = {**RECIPES["base"], "kl_weight": 5.0}
RECIPES["kl20"] = {**RECIPES["base"], "kl_weight": 20.0}
RECIPES["kl1"] = {**RECIPES["base"], "kl_weight": 1.0}  # the paper's loss, whatever the prepared arrays' conf/base says
RECIPES["kl1_mid"] = {**RECIPES["mid"], "kl_weight": 1.0}


def group_shuffle_split(train, data) -> dict[str, list[int]]:
    """The reference code's engine split: scikit-learn's ``GroupShuffleSplit`` over the unit
    numbers (``train_size=0.8, random_state=42`` there), instead of the pipeline's draw."""
    import numpy as np
    from sklearn.model_selection import GroupShuffleSplit

    units = np.sort(train["unit_nr"].unique())
    splitter = GroupShuffleSplit(n_splits=1, train_size=1 - data.validation_fraction, random_state=data.split_seed)
    fit, val = next(splitter.split(units, groups=units))
    return {"train_units": sorted(units[fit].tolist()), "validation_units": sorted(units[val].tolist())}


def prepare(args) -> None:
    """The pipeline's own windows, through Kedro (``benchmarks/kedro_slice.py``): the
    ``rul_vae`` preprocessing slice with the project's configuration, in memory."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from kedro_slice import PipelineSlice

    windows = [
        "rul_vae.preprocessing.make_training_windows",
        "rul_vae.preprocessing.make_test_windows",
        "rul_vae.preprocessing.evaluation_truth",
    ]
    runtime = {"rul_vae": {"data": {"sensors": args.sensors}}} if args.sensors else {}
    preprocessing = PipelineSlice("rul_vae", to_nodes=windows, runtime_params=runtime)
    out = preprocessing.run()
    data = preprocessing.inputs["params:rul_vae.data"]
    if args.split == "group-shuffle":  # the reference code's engine split instead of the pipeline's
        split = group_shuffle_split(out["rul_vae.train_smoothed"], data)
        make = "rul_vae.preprocessing.make_training_windows"
        inputs = {"rul_vae.train_smoothed": out["rul_vae.train_smoothed"], "rul_vae.engine_split": split}
        out.update(PipelineSlice("rul_vae", from_nodes=[make], to_nodes=[make], runtime_params=runtime, inputs=inputs).run())
    model = PipelineSlice(
        "rul_vae",
        from_nodes=["rul_vae.training.train_rul_vae"],
        to_nodes=["rul_vae.training.train_rul_vae"],
        runtime_params=runtime,
        inputs={k: out[k] for k in ("rul_vae.x_train", "rul_vae.y_train", "rul_vae.x_val", "rul_vae.y_val")},
    ).inputs["params:rul_vae.model"]
    arrays = {k.split(".")[-1]: out[f"rul_vae.{k.split('.')[-1]}"] for k in ("x_train", "y_train", "x_val", "y_val", "x_test")}
    truth = out["rul_vae.evaluation_truth"].sort_values("unit_nr")  # x_test's order: the sorted units
    arrays["y_test"] = truth["RUL"].clip(upper=data.max_rul).to_numpy("float64")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, mask_value=data.mask_value, model=json.dumps(model.model_dump(mode="json")), **arrays)
    print({k: v.shape for k, v in arrays.items()})


def build_model(arrays: dict, model_params: dict, seed: int, y):
    """The pipeline's ``RecurrentVAE`` for the prepared ``arrays``, its RUL bias at ``mean(y)``."""
    import numpy as np

    from autoencoder_pipelines.models import RecurrentVAE, RecurrentVAEConfig

    x = arrays["x_train"]
    settings = {k: v for k, v in model_params.items() if k not in ("input_shape", "mask_value", "seed", "rul_bias")}
    config = RecurrentVAEConfig(
        **settings,
        input_shape=x.shape[1:],
        mask_value=float(arrays["mask_value"]),
        seed=seed,
        rul_bias=float(np.mean(y)),
    )
    return RecurrentVAE(config)


def train_one(args) -> None:
    import keras
    import numpy as np

    from autoencoder_pipelines.evaluation import nasa_score, rmse

    recipe = {"batch_size": 128, **RECIPES[args.recipe]}
    with np.load(args.data) as archive:
        arrays = {key: archive[key] for key in archive.files}
    model_params = {**json.loads(str(arrays["model"])), **{k: v for k, v in recipe.items() if k in ("decoder", "kl_weight")}}
    x, y = arrays["x_train"], arrays["y_train"]
    if recipe.get("all_engines"):
        x, y = np.concatenate([x, arrays["x_val"]]), np.concatenate([y, arrays["y_val"]])
    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    model = build_model(arrays, model_params, args.seed, y)
    steps = -(-len(x) // recipe["batch_size"])
    lr = recipe["learning_rate"]
    if recipe["lr_decay"] < 1:
        lr = keras.optimizers.schedules.ExponentialDecay(lr, steps, recipe["lr_decay"], staircase=True)
    ema = recipe.get("ema_momentum")
    optimizer = keras.optimizers.Adam(lr, use_ema=ema is not None, ema_momentum=ema or 0.99)
    model.compile(optimizer=optimizer, jit_compile=True if args.jit else "auto")

    epoch_times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(time.perf_counter() - self.start)
            if (epoch + 1) % 25 == 0:
                print(
                    f"  {args.recipe} seed {args.seed}: epoch {epoch + 1}, val_loss {logs['val_loss']:.1f}, "
                    f"{epoch_times[-1]:.2f} s/epoch",
                    flush=True,
                )
            if args.deadline and time.time() > args.deadline:
                self.model.stop_training = True

    traced: dict[str, list] = {"val": [], "test": []}
    if args.trace:
        folder = args.trace / f"{args.recipe}-{args.seed}"
        folder.mkdir(parents=True, exist_ok=True)

    class Trace(keras.callbacks.Callback):
        """Every epoch's validation and test predictions and weights (before EarlyStopping
        restores the best ones), to compare checkpoint choices after the run."""

        def on_epoch_end(self, epoch, logs=None):
            for key in traced:
                traced[key].append(self.model.predict(arrays[f"x_{key}"], batch_size=1024, verbose=0)["rul"])
            self.model.save_weights(folder / f"epoch-{epoch + 1:03d}.weights.h5")

    # patience 0: no early stopping, the weights of the last epoch
    stopping = keras.callbacks.EarlyStopping(
        patience=recipe["patience"] or recipe["epochs"], restore_best_weights=bool(recipe["patience"])
    )
    history = model.fit(
        x,
        y,
        validation_data=(arrays["x_val"], arrays["y_val"]),
        batch_size=recipe["batch_size"],
        epochs=recipe["epochs"],
        shuffle=True,
        verbose=0,
        # SwapEMAWeights before EarlyStopping: the EMA weights are validated and kept as the best
        callbacks=[
            Clock(),
            *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []),
            *([Trace()] if args.trace else []),
            stopping,
        ],
    ).history
    if recipe["patience"] and stopping.best_weights is not None and stopping.stopped_epoch == 0:
        model.set_weights(stopping.best_weights)  # stopped by the deadline: still the best epoch
    predicted = np.asarray(model.predict(arrays["x_test"], batch_size=1024, verbose=0)["rul"], np.float64)
    val_predicted = np.asarray(model.predict(arrays["x_val"], batch_size=1024, verbose=0)["rul"], np.float64)
    best = int(np.argmin(history["val_loss"]))
    if args.trace:
        np.savez(
            folder / "trace.npz",
            val_loss=np.asarray(history["val_loss"]),
            y_val=arrays["y_val"],
            y_test=arrays["y_test"],
            **{f"{key}_predicted": np.asarray(v) for key, v in traced.items()},
        )
    row = {
        "recipe": args.recipe,
        "seed": args.seed,
        "backend": keras.config.backend(),
        "test_rmse": rmse(arrays["y_test"], predicted),
        "nasa_score": nasa_score(arrays["y_test"], predicted),
        "val_rmse": rmse(arrays["y_val"], val_predicted),
        "best_val_loss": float(history["val_loss"][best]),
        "best_epoch": best + 1,
        "epochs": len(history["val_loss"]),
        "truncated": bool(args.deadline and time.time() > args.deadline and stopping.stopped_epoch == 0),
        "median_epoch_s": statistics.median(epoch_times),
        "val_loss": [round(float(v), 2) for v in history["val_loss"]],
    }
    with open(args.out, "a") as handle:
        handle.write(json.dumps(row) + "\n")
    print(
        f"{args.recipe} seed {args.seed}: RMSE {row['test_rmse']:.2f} score {row['nasa_score']:.0f} "
        f"epochs {row['epochs']} (best {row['best_epoch']}), {row['median_epoch_s']:.2f} s/epoch",
        flush=True,
    )


def run(args) -> None:
    deadline = time.time() + args.budget_s if args.budget_s else 0
    queue = [(recipe, seed) for recipe in args.recipes for seed in args.seeds]
    running: list[subprocess.Popen] = []
    while queue or running:
        while queue and len(running) < args.jobs:
            recipe, seed = queue.pop(0)
            command = [
                sys.executable,
                __file__,
                "one",
                "--data",
                str(args.data),
                "--recipe",
                recipe,
                "--seed",
                str(seed),
                "--out",
                str(args.out),
                "--deadline",
                str(deadline),
            ]
            command += ["--jit"] if args.jit else []
            command += ["--mixed-precision"] if args.mixed_precision else []
            command += ["--trace", str(args.trace)] if args.trace else []
            running.append(subprocess.Popen(command))
        time.sleep(1)
        running = [p for p in running if p.poll() is None]
    table(args)


def table(args) -> None:
    rows = [json.loads(line) for line in Path(args.out).read_text().splitlines() if line.strip()]
    by_recipe: dict[str, list[dict]] = {}
    for row in rows:
        by_recipe.setdefault(row["recipe"], []).append(row)
    print("| recipe | seeds | test RMSE per seed | median RMSE | median score | median val RMSE | epochs (best) |")
    print("|---|---|---|---|---|---|---|")
    for recipe, group in by_recipe.items():
        group.sort(key=lambda r: r["seed"])
        seeds = " ".join(str(r["seed"]) for r in group)
        rmses = " ".join(f"{r['test_rmse']:.2f}" + ("*" if r["truncated"] else "") for r in group)
        epochs = " ".join(f"{r['epochs']}({r['best_epoch']})" for r in group)
        print(
            f"| {recipe} | {seeds} | {rmses} "
            f"| {statistics.median(r['test_rmse'] for r in group):.2f} "
            f"| {statistics.median(r['nasa_score'] for r in group):.0f} "
            f"| {statistics.median(r['val_rmse'] for r in group):.2f} | {epochs} |"
        )
    print("(* stopped by --budget-s before early stopping)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--split",
        choices=["pipeline", "group-shuffle"],
        default="pipeline",
        help="engine split: the pipeline's, or the reference code's GroupShuffleSplit",
    )
    p.add_argument("--sensors", nargs="+", help="sensor columns instead of conf/base's (e.g. s_2 s_3 ... s_21)")
    for name in ("run", "one"):
        p = sub.add_parser(name)
        p.add_argument("--data", type=Path, required=True)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--jit", action="store_true")
        p.add_argument("--mixed-precision", action="store_true")
        p.add_argument("--trace", type=Path, help="folder: per-epoch predictions and weights of every run")
    sub.choices["run"].add_argument("--recipes", nargs="+", choices=sorted(RECIPES), required=True)
    sub.choices["run"].add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    sub.choices["run"].add_argument("--jobs", type=int, default=2)
    sub.choices["run"].add_argument("--budget-s", type=float, default=0, help="stop every training after this long")
    sub.choices["one"].add_argument("--recipe", choices=sorted(RECIPES), required=True)
    sub.choices["one"].add_argument("--seed", type=int, required=True)
    sub.choices["one"].add_argument("--deadline", type=float, default=0)
    p = sub.add_parser("table")
    p.add_argument("out", type=Path)
    args = parser.parse_args()
    {"prepare": prepare, "run": run, "one": train_one, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
