"""The two sides of ``time_to_quality.py``.

- ``python ttq_worker.py '{"side": "peer", "task": "rul_vae", "seed": 0}'``, run by the
  harness in the peer's environment (it prints one ``RESULT`` JSON line), for ``rul_vae``: the peer's own RUL example
  (``examples/rve_RUL.ipynb`` of Rapidae 0.0.5, through its public API) from reading the
  files to its test figures: ``load_CMAPSS``'s reading (of local files: the harness has
  no internet), ``PreprocessPipeline`` with ``CMAPSS_preprocessor`` (window 30, smoothing
  0.1, cap 125), ``RVE`` at its fixed size, ``TrainingPipeline`` with Adam 0.01, batch
  128 and its default early stopping (patience 10 on the validation loss, the best
  weights checkpointed and restored), then the example's evaluation of the last window of every test
  engine. The harness times the whole process, so this is the peer's time to quality.
- for the dense MNIST tasks (``denoising_ae``, ``sparse_ae``, ``contractive_ae``), the
  peer's example of each (``examples/denoising_autoencoder.ipynb``,
  ``sparse_autoencoder.ipynb``, ``contractive_autoencoder.ipynb``): its model at its default
  size, its epochs, learning rate and batch, through ``TrainingPipeline`` (which, without
  validation data, stops early on the training loss and restores its best weights), on the
  MNIST files read with its own ``mnist_load_images``. Two departures, both so the sides can
  be compared on the same images: it trains on our 54,000 training images (the harness
  passes our seeded split; the notebooks use all 60,000, so our 6,000 validation images
  stay unseen by both), and the denoising example's noise goes onto the scaled images (the
  notebook adds ``0.3 N(0, 1)`` to the 0..255 values and clips to [0, 1], which leaves
  every non-black pixel white; it then trains on those inputs as if they were scaled).
  Its figures: test MSE (against the clean images for denoising), validation MSE on our
  validation images, and for ``sparse_ae`` the mean code activation, for ``contractive_ae``
  the mean Frobenius norm of the encoder's Jacobian, as ours define them.
- ``ours_rul`` and ``ours_mnist``, called by the harness in its own process (our environment): the figures
  of the ``kedro run`` it has just timed, from its project's files: the test metrics the
  run wrote, and the validation RMSE of its model over every window of its validation
  engines.

Nothing of the project is imported at module level: the peer's environment has neither
Kedro nor the project.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

# The peer's example: FD004 and six sensors in the notebook; here FD001 (the one complete
# subset on these machines) with the five its comment names (T30, T50, P30, PS30, phi),
# the paper's, as our `sensors: null` gives them.
PEER_SENSORS = ["s_3", "s_4", "s_7", "s_11", "s_12"]
CMAPSS_COLUMNS = ["unit_nr", "time_cycles", "setting_1", "setting_2", "setting_3"] + [f"s_{i}" for i in range(1, 22)]


def rmse(y_true, y_pred) -> float:
    import numpy as np

    y_true, y_pred = np.ravel(np.asarray(y_true, np.float64)), np.ravel(np.asarray(y_pred, np.float64))
    return float(np.sqrt(np.mean((y_pred - y_true) ** 2)))


def peer_rul(spec: dict) -> dict:
    """The peer's RUL example on FD001, seeded; its test and validation figures."""
    import keras
    import numpy as np
    import pandas as pd
    from rapidae.data import CMAPSS_preprocessor
    from rapidae.evaluate import cmapps_score, evaluate
    from rapidae.models import RVE
    from rapidae.pipelines import PreprocessPipeline, TrainingPipeline

    keras.utils.set_random_seed(spec["seed"])
    folder, subset, threshold = Path(os.environ["CMAPSS_DATA_DIR"]), spec.get("subset", "FD001"), 125
    read = lambda name, names: pd.read_csv(folder / f"{name}_{subset}.txt", sep=r"\s+", header=None, names=names)  # noqa: E731
    data = PreprocessPipeline(name="CMAPPS_preprocessing", preprocessor=CMAPSS_preprocessor)(
        train=read("train", CMAPSS_COLUMNS),
        test=read("test", CMAPSS_COLUMNS),
        y_test=read("RUL", ["RemainingUsefulLife"]),
        sensors=PEER_SENSORS,
        sequence_length=30,
        alpha=0.1,
        threshold=threshold,
    )
    model = RVE(input_dim=data["x_train"].shape[1:], latent_dim=2, downstream_task="regression")
    with tempfile.TemporaryDirectory() as output:
        pipeline = TrainingPipeline(
            name="RVE_RUL_CMAPSS",
            model=model,
            output_dir=output,
            num_epochs=spec.get("max_epochs", 10000),  # the example's 10000: "doesn't matter, we use early stopping"
            batch_size=128,
            optimizer="adam",
            learning_rate=0.01,
            verbose=0,
        )
        trained = pipeline(x=data["x_train"], y=data["y_train"], x_val=data["x_val"], y_val=data["y_val"])
    y_test = np.asarray(data["y_test"]).clip(max=threshold).reshape(-1, 1)  # the example's capped truth
    estimate = np.asarray(trained.predict(data["x_test"], verbose=0)["reg"])
    val_estimate = np.asarray(trained.predict(data["x_val"], verbose=0)["reg"])
    losses = trained.history.history["val_loss"]
    return {
        "test_rmse": rmse(y_test, estimate),
        "test_score": float(evaluate(y_true=y_test, y_hat=estimate, sel_metric=cmapps_score.CMAPSS_Score())),
        "val_rmse": rmse(data["y_val"], val_estimate),
        "epochs": len(losses),
        "best_epoch": int(np.argmin(losses)) + 1,
        "test_engines": len(y_test),
        "val_windows": len(val_estimate),
    }


def _session(spec: dict):
    """A Kedro session on ``spec["project"]`` in ``spec["env"]``, with the run's own overrides
    (``kedro run --params KEY=VALUE ...``, ``spec["params"]``), so its settings are the run's."""
    import yaml
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = Path(spec["project"])
    bootstrap_project(project)
    overrides: dict = {}
    for item in spec.get("params") or []:
        key, _, value = item.partition("=")
        *parents, leaf = key.split(".")
        node = overrides
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return KedroSession.create(project_path=project, env=spec.get("env"), runtime_params=overrides or None)


def ours_rul(spec: dict) -> dict:
    """The figures of the newest ``rul_vae`` run in ``spec["project"]``: its test metrics and
    its model's RMSE over every window of its validation engines."""
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    import numpy as np

    from autoencoder_pipelines.data.config import CMAPSSConfig
    from autoencoder_pipelines.pipelines.rul_vae import nodes

    with _session(spec) as session:
        context = session.load_context()
        catalog, params = context.catalog, context.params["rul_vae"]
        metrics = catalog.load("rul_vae.metrics")  # the newest version: the run just timed
        model = catalog.load("rul_vae.model")
        data = CMAPSSConfig.model_validate(params["data"])
        _, _, x_val, y_val = nodes.make_training_windows(
            catalog.load("rul_vae.train_smoothed"), catalog.load("rul_vae.engine_split"), data
        )
    estimate = np.asarray(model.predict(x_val, verbose=0)["rul"])  # with its offset, within 0..max_rul, as served
    return {
        "test_rmse": float(metrics["rmse"]),
        "test_score": float(metrics["nasa_score"]),
        "val_rmse": rmse(np.minimum(y_val, data.max_rul), estimate),
        "epochs": int(metrics["epochs_trained"]),
        "best_epoch": int(metrics["best_epoch"]),
        "members": len(metrics.get("members", [])) or 1,
        "test_engines": int(metrics["n_engines"]),
        "val_windows": len(estimate),
    }


# The peer's dense MNIST examples: (its model, epochs, learning rate); batch 128, TrainingPipeline's default.
PEER_MNIST = {
    "denoising_ae": ("AE, latent 10, noise 0.3", 50, 0.001),
    "sparse_ae": ("AE, latent 32, SparseEncoder/SparseDecoder", 20, 0.01),
    "contractive_ae": ("CAE, latent 10", 20, 0.001),
}


def jacobian_norms(encoder, x, batch: int = 500):
    """Frobenius norm of ``encoder``'s Jacobian at every row of ``x`` (TensorFlow backend)."""
    import numpy as np
    import tensorflow as tf

    norms = []
    for start in range(0, len(x), batch):
        inputs = tf.convert_to_tensor(x[start : start + batch])
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            codes = encoder(inputs)
        jacobian = tape.batch_jacobian(codes, inputs)  # (batch, code, pixels)
        norms.append(tf.sqrt(tf.reduce_sum(tf.square(jacobian), axis=[1, 2])).numpy())
    return np.concatenate(norms).astype(np.float64)


def peer_mnist(spec: dict) -> dict:
    """The peer's dense MNIST example for ``spec["task"]`` on our training images, seeded; its figures."""
    import keras
    import numpy as np
    from rapidae.data.utils import add_noise, mnist_load_images
    from rapidae.models import AE, CAE
    from rapidae.models.base import SparseDecoder, SparseEncoder
    from rapidae.pipelines import TrainingPipeline

    task = spec["task"]
    _, epochs, learning_rate = PEER_MNIST[task]
    keras.utils.set_random_seed(spec["seed"])
    folder = Path(os.environ["MNIST_DATA_DIR"])
    flat = lambda part: (mnist_load_images(folder / f"{part}-images-idx3-ubyte.gz").reshape(-1, 784) / 255).astype("float32")  # noqa: E731
    images, x_test = flat("train"), flat("t10k")
    split = np.load(spec["split"])
    x_train, x_val = images[split["train"]], images[split["validation"]]
    inputs = {"train": x_train, "val": x_val, "test": x_test}
    if task == "denoising_ae":
        inputs = {name: add_noise(x, noise_factor=0.3).astype("float32") for name, x in inputs.items()}
        model = AE(input_dim=784, latent_dim=10)
    elif task == "sparse_ae":
        model = AE(input_dim=784, latent_dim=32, encoder=SparseEncoder, decoder=SparseDecoder)
    else:
        model = CAE(input_dim=784, latent_dim=10)
    with tempfile.TemporaryDirectory() as output:
        pipeline = TrainingPipeline(
            name=f"{task}_MNIST",
            model=model,
            output_dir=output,
            num_epochs=spec.get("max_epochs", epochs),
            learning_rate=learning_rate,
            verbose=0,
        )
        trained = pipeline(x=inputs["train"], y=x_train if task == "denoising_ae" else None)
    test = trained.predict(inputs["test"], batch_size=1000, verbose=0)
    val = trained.predict(inputs["val"], batch_size=1000, verbose=0)
    losses = trained.history.history["loss"]
    result = {
        "test_mse": float(np.mean((np.asarray(test["x_recon"], np.float64) - x_test) ** 2)),
        "val_mse": float(np.mean((np.asarray(val["x_recon"], np.float64) - x_val) ** 2)),
        "epochs": len(losses),
        "best_epoch": int(np.argmin(losses)) + 1,
        "test_images": len(x_test),
        "val_images": len(x_val),
    }
    if task == "sparse_ae":
        result["mean_activation"] = float(np.mean(test["z"]))
    if task == "contractive_ae":
        result["jacobian_norm"] = float(jacobian_norms(trained.encoder, x_test).mean())
    return result


def ours_mnist(spec: dict) -> dict:
    """The figures of the newest ``spec["task"]`` run (a dense MNIST task) in ``spec["project"]``:
    its test metrics and its model's MSE on its validation images."""
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    import numpy as np

    from autoencoder_pipelines.models import predict_in_chunks

    task = spec["task"]
    with _session(spec) as session:
        catalog = session.load_context().catalog
        metrics = catalog.load(f"{task}.metrics")  # the newest version: the run just timed
        history = catalog.load(f"{task}.training_history")
        model = catalog.load(f"{task}.model")
        x_val = catalog.load(f"{task}.x_val")
        inputs = catalog.load(f"{task}.noisy_x_val") if task == "denoising_ae" else x_val
    val = predict_in_chunks(model, inputs, chunk=1000)["reconstruction"]
    test = metrics["contractive"] if task == "contractive_ae" else metrics
    result = {
        "test_mse": float(test["mse"]),
        "val_mse": float(np.mean((np.asarray(val, np.float64) - x_val) ** 2)),
        "epochs": len(history["val_loss"]),
        "best_epoch": int(np.argmin(history["val_loss"])) + 1,
        "val_images": len(x_val),
    }
    if task == "sparse_ae":
        result["mean_activation"] = float(metrics["mean_activation"])
    if task == "contractive_ae":
        result["jacobian_norm"] = float(test["jacobian_norm"])
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = (peer_rul if spec["task"] == "rul_vae" else peer_mnist)(spec)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
