"""One side of one measurement of ``peer_benchmark.py``, in its own process.

Run by the harness, not by hand: ``python peer_worker.py SPEC_JSON`` prints one JSON
line. ``SPEC_JSON`` names the side (``ours``: this project, in its virtual environment;
``peer``: Rapidae 0.0.5, in the harness's own virtual environment, through its public
API) and either a model to train or a data stage to time.

Training: the model is built at the architecture the spec gives (the same on both
sides) and trained on random arrays of the real data's shapes (speed does not depend
on the values) for ``epochs`` epochs of ``steps`` batches. Ours trains through the
project's trainer (``training.fit_model``: seeded batches, early stopping, the
per-epoch backup), the peer through ``rapidae.pipelines.TrainingPipeline`` (its early
stopping and checkpoint). One callback, first in both, times each epoch from its start
to the end of its last training batch, in wall seconds and in the process's CPU
seconds, so validation and end-of-epoch callbacks are not counted on either side.

Data stages: ours through the pipelines' own nodes (``kedro_slice.PipelineSlice``, in
memory), the peer's through its functions, on the real files; one warm-up run, then
the median of ``repeats``.

Nothing of the project is imported at module level: the peer's environment has
neither Kedro nor the project.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _timer_callback():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Wall and CPU seconds from each epoch's start to the end of its last training batch."""

        def __init__(self):
            super().__init__()
            self.wall, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = (time.perf_counter(), time.process_time())
            self._last = self._start

        def on_train_batch_end(self, batch, logs=None):
            self._last = (time.perf_counter(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            self.wall.append(self._last[0] - self._start[0])
            self.cpu.append(self._last[1] - self._start[1])

    return EpochTimer()


# --- random arrays of each model's shapes --------------------------------------------


def _arrays(model: str, arch: dict, n: int, rng):
    import numpy as np

    if model in ("denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae", "vae_classifier"):
        x = rng.random((n, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, n)
        return x, y
    if model == "rul_vae":
        x = rng.standard_normal((n, arch["window"], arch["sensors"]), dtype=np.float32)
        return x, rng.uniform(0, 125, n).astype(np.float32)
    if model == "af_rvae":
        x = rng.random((n, arch["steps"], 1), dtype=np.float32)
        return x, rng.integers(0, arch["n_classes"], n)
    raise ValueError(f"unknown model {model!r}")


# --- ours ------------------------------------------------------------------------------


def _ours_model(model: str, arch: dict, seed: int):
    """``seed -> built model`` of the project's library, at ``arch``."""
    from autoencoder_pipelines import models

    image = (28, 28, 1)
    dense = lambda: dict(  # noqa: E731
        hidden_units=tuple(arch["hidden"]), latent_dim=arch["latent"], reconstruction_loss="binary_crossentropy"
    )
    builders = {
        "denoising_ae": lambda: models.Autoencoder(
            dict(dense(), input_shape=image, hidden_activation="relu", latent_activation="linear", seed=seed)
        ),
        "sparse_ae": lambda: models.Autoencoder(
            dict(
                dense(),
                input_shape=image,
                hidden_activation="relu",
                latent_activation="sigmoid",
                sparsity="kl",
                sparsity_weight=0.1,
                sparsity_target=0.03,
                seed=seed,
            )
        ),
        "contractive_ae": lambda: models.ContractiveAutoencoder(
            dict(
                dense(),
                input_shape=image,
                hidden_activation="relu",
                latent_activation="linear",
                contractive_weight=1e-4,
                **({"jacobian": arch["jacobian"]} if "jacobian" in arch else {}),
                seed=seed,
            )
        ),
        "vae": lambda: models.VAE(
            dict(input_shape=image, hidden_units=tuple(arch["hidden"]), latent_dim=arch["latent"], seed=seed)
        ),
        "vq_vae": lambda: models.VQVAE(
            dict(
                input_shape=image,
                filters=tuple(arch["filters"]),
                embedding_dim=arch["latent"],
                num_embeddings=arch["codes"],
                seed=seed,
            )
        ),
        "vae_classifier": lambda: models.VAEClassifier(
            dict(
                input_shape=image,
                filters=tuple(arch["filters"]),
                dense_units=arch["dense"],
                latent_dim=arch["latent"],
                classifier_units=arch["classifier"],
                reconstruction_weight=1.0,
                kl_weight=1.0,
                classification_weight=1.0,
                seed=seed,
            )
        ),
        "rul_vae": lambda: models.RecurrentVAE(
            dict(
                input_shape=(arch["window"], arch["sensors"]),
                lstm_units=arch["units"],
                regressor_units=200,
                mask_value=-99.0,
                seed=seed,
                **({"unroll": arch["unroll"]} if "unroll" in arch else {}),
            )
        ),
        "af_rvae": lambda: models.RecurrentVAEClassifier(
            dict(
                input_shape=(arch["steps"], 1),
                lstm_units=arch["units"],
                classifier_units=200,
                n_classes=arch["n_classes"],
                reconstruction_weight=1.0,
                kl_weight=1.0,
                classification_weight=10.0,
                seed=seed,
            )
        ),
    }
    return builders[model]()


def _steps_of(layer) -> int:
    """Time steps of a recurrent layer's input (which may come with its mask)."""
    inputs = layer.input[0] if isinstance(layer.input, (list, tuple)) else layer.input
    return inputs.shape[1]


def _model_flops(model) -> float:
    """Multiply-adds x 2 of one sample's forward pass through the model's Dense, Conv2D,
    Conv2DTranspose and LSTM layers (the rest is elementwise and left out): its forward
    matrix products (:func:`_forward_gemms`) at batch 1."""
    return float(sum(2 * m * k * n for m, k, n in _forward_gemms(model, batch=1)))


def _forward_gemms(model, batch: int) -> list[tuple[int, int, int]]:
    """The matrix products ``(m, k, n)`` of one forward pass of ``batch`` samples through
    the model's Dense, Conv2D, Conv2DTranspose and LSTM layers (convolutions as im2col)."""
    import math

    import keras

    forward = []

    def lstm(layer, steps):
        features, gates = layer.cell.kernel.shape
        forward.extend([(batch, features, gates), (batch, gates // 4, gates)] * steps)

    wrapped = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Bidirectional):
            for inner in (layer.forward_layer, layer.backward_layer):
                wrapped.add(id(inner))
                lstm(inner, _steps_of(layer))
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.LSTM) and id(layer) not in wrapped:
            lstm(layer, _steps_of(layer))
        elif isinstance(layer, keras.layers.TimeDistributed):
            k, n = layer.layer.kernel.shape
            forward.append((batch * layer.output.shape[1], k, n))
        elif isinstance(layer, keras.layers.Dense) and hasattr(layer, "output"):
            try:
                positions = math.prod(layer.output.shape[1:-1])
            except (AttributeError, ValueError):
                continue
            k, n = layer.kernel.shape
            forward.append((batch * positions, k, n))
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, cout, cin = layer.kernel.shape
            height, width = layer.input.shape[1:3]
            forward.append((batch * height * width, cin, kh * kw * cout))
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            height, width = layer.output.shape[1:3]
            forward.append((batch * height * width, kh * kw * cin, cout))
    return forward


def _gemms(model, batch: int) -> list[tuple[int, int, int]]:
    """The matrix products of one training step: each forward product and its two backward
    ones (gradient of the input, of the weights)."""
    return [shape for m, k, n in _forward_gemms(model, batch) for shape in ((m, k, n), (m, n, k), (k, m, n))]


def gemm_ceiling_seconds(model, batch: int, repeats: int = 5) -> float:
    """Seconds one training step's matrix products take alone in TensorFlow (median of
    ``repeats``): a floor that no implementation of this architecture on this machine's
    matmul kernels goes below, elementwise work, data and overheads aside."""
    import tensorflow as tf

    shapes = _gemms(model, batch)
    operands = {}
    for m, k, n in shapes:
        operands.setdefault((m, k), tf.Variable(tf.random.normal((m, k))))
        operands.setdefault((k, n), tf.Variable(tf.random.normal((k, n))))

    def chunk_step(chunk):
        @tf.function
        def step():
            # Independent products (TensorFlow may overlap them, as it may in a model's step),
            # each on its own operand (+ i) so that the graph optimiser merges none of them.
            return tf.add_n([tf.matmul(operands[(m, k)] + float(i), operands[(k, n)])[0, 0] for i, (m, k, n) in chunk])

        return step

    # In chunks of 64 products, so that only a few of their results are alive at once.
    numbered = list(enumerate(shapes))
    steps = [chunk_step(numbered[i : i + 64]) for i in range(0, len(numbered), 64)]
    for step in steps:
        step().numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for step in steps:
            step().numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def train_ours(spec: dict) -> dict:
    import numpy as np

    from autoencoder_pipelines.training import EnsembleConfig, TrainingConfig
    from autoencoder_pipelines.training.fit import fit_model

    model, arch, batch, steps, epochs = spec["model"], spec["arch"], spec["batch"], spec["steps"], spec["epochs"]
    rng = np.random.default_rng(0)
    x, y = _arrays(model, arch, batch * steps, rng)
    x_val, y_val = _arrays(model, arch, batch, rng)
    if model in ("denoising_ae", "sparse_ae", "contractive_ae", "vae", "vq_vae"):
        y, y_val = x, x_val  # autoencoders: the image is the target
    timer = _timer_callback()
    with tempfile.TemporaryDirectory() as backups:
        config = TrainingConfig(
            seed=0,
            epochs=epochs,
            batch_size=batch,
            learning_rate=1e-3,
            patience=epochs + 1,
            backup_dir=Path(backups),
            verbose=0,
            ensemble=EnsembleConfig(members=1),
            **spec.get("training", {}),
        )
        trained, _ = fit_model(lambda: _ours_model(model, arch, 0), x, y, (x_val, y_val), config, "benchmark", callbacks=[timer])
        # fit_model puts its own callbacks first; the timer's epoch then starts after theirs
        # (the batch order of EpochRandomness) and ends with the last batch, as the peer's.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # training's, before the floor's own matrices
    return {
        "wall": timer.wall,
        "cpu": timer.cpu,
        "flops_per_sample": _model_flops(trained),
        "peak_rss_mib": peak,
        "gemm_floor_s": gemm_ceiling_seconds(trained, batch) if spec.get("floor", True) else None,
        "parameters": int(trained.count_params()),
        "compute_dtype": trained.dtype_policy.compute_dtype,
    }


# --- the peer ---------------------------------------------------------------------------


def _peer_model(model: str, arch: dict):
    from rapidae import models
    from rapidae.models.base import default_architectures as archs

    flat = 784
    if model in ("denoising_ae", "contractive_ae"):
        enc = archs.VanillaEncoder(flat, arch["latent"], layers_conf=list(arch["hidden"]))
        dec = archs.VanillaDecoder(flat, arch["latent"], layers_conf=list(arch["hidden"]))
        if model == "denoising_ae":
            return models.AE(input_dim=flat, latent_dim=arch["latent"], encoder=enc, decoder=dec)
        return models.CAE(input_dim=flat, latent_dim=arch["latent"], encoder=enc, decoder=dec, lambda_=1e-4)
    if model == "sparse_ae":
        enc = archs.SparseEncoder(flat, arch["latent"], layers_conf=list(arch["hidden"]))
        dec = archs.SparseDecoder(flat, arch["latent"], layers_conf=list(arch["hidden"]))
        return models.AE(input_dim=flat, latent_dim=arch["latent"], encoder=enc, decoder=dec)
    if model == "vae":
        enc = archs.VAE_Encoder_MLP(flat, arch["latent"], layers_conf=list(arch["hidden"]))
        dec = archs.VAE_Decoder_MLP(flat, arch["latent"], layers_conf=list(arch["hidden"]))
        return models.VAE(input_dim=(flat,), latent_dim=arch["latent"], encoder=enc, decoder=dec, recon_loss_fn="bce")
    if model == "vq_vae":
        return models.VQ_VAE(input_dim=(28, 28, 1), latent_dim=arch["latent"], num_embeddings=arch["codes"])
    if model == "vae_classifier":
        return models.VAE(
            input_dim=(28, 28, 1),
            latent_dim=arch["latent"],
            encoder=archs.VAE_Encoder_Conv_MNIST,
            decoder=archs.VAE_Decoder_Conv_MNIST,
            downstream_task="classification",
            n_classes=10,
        )
    if model == "rul_vae":
        return models.RVE(input_dim=(arch["window"], arch["sensors"]), latent_dim=2)
    if model == "af_rvae":
        return models.RVAE(input_dim=(arch["steps"], 1), latent_dim=2, n_classes=arch["n_classes"], weight_clf=10.0)
    raise ValueError(f"unknown model {model!r}")


def train_peer(spec: dict) -> dict:
    import keras
    import numpy as np
    from rapidae.pipelines import TrainingPipeline

    model, arch, batch, steps, epochs = spec["model"], spec["arch"], spec["batch"], spec["steps"], spec["epochs"]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = _arrays(model, arch, batch * steps, rng)
    x_val, y_val = _arrays(model, arch, batch, rng)
    if model in ("denoising_ae", "sparse_ae", "contractive_ae", "vae"):
        x, x_val = x.reshape(len(x), -1), x_val.reshape(len(x_val), -1)  # the peer's dense models take flat images
    if model in ("vae_classifier", "af_rvae"):
        y, y_val = (
            np.eye(arch.get("n_classes", 10), dtype=np.float32)[y],
            np.eye(arch.get("n_classes", 10), dtype=np.float32)[y_val],
        )
    elif model == "rul_vae":
        y, y_val = y[:, None], y_val[:, None]
    else:
        y, y_val = x, x_val
    timer = _timer_callback()
    with tempfile.TemporaryDirectory() as output:
        pipeline = TrainingPipeline(
            name="benchmark",
            model=_peer_model(model, arch),
            output_dir=output,
            learning_rate=1e-3,
            batch_size=batch,
            num_epochs=epochs,
            callbacks=[timer],
            verbose=0,
        )
        pipeline(x, y, x_val, y_val)
    return {
        "wall": timer.wall,
        "cpu": timer.cpu,
        "parameters": int(pipeline.model.count_params()),
        "compute_dtype": pipeline.model.dtype_policy.compute_dtype,
    }


# --- data stages --------------------------------------------------------------------------


def _median_seconds(run, repeats: int) -> tuple[float, list[float]]:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def stage_ours(spec: dict) -> dict:
    sys.path.insert(0, str(HERE))
    import logging

    from kedro_slice import PipelineSlice

    stage, repeats = spec["stage"], spec["repeats"]
    if stage == "mnist_ingestion":
        slice_ = PipelineSlice(
            "denoising_ae",
            env=spec.get("env"),
            to_nodes=["denoising_ae.preprocessing.scale_test_set", "denoising_ae.preprocessing.split_training_set"],
        )
    elif stage == "noise_injection":
        clean = PipelineSlice(
            "denoising_ae",
            env=spec.get("env"),
            to_nodes=["denoising_ae.preprocessing.scale_test_set", "denoising_ae.preprocessing.split_training_set"],
        ).run()
        node = "denoising_ae.preprocessing.inject_noise"
        slice_ = PipelineSlice(
            "denoising_ae",
            env=spec.get("env"),
            from_nodes=[node],
            to_nodes=[node],
            inputs=clean,
            runtime_params={"denoising_ae": {"noise": {"train_copies": 1}}},
        )
    elif stage == "cmapss_preprocessing":
        slice_ = PipelineSlice(
            "rul_vae",
            env=spec.get("env"),
            to_nodes=["rul_vae.preprocessing.make_training_windows", "rul_vae.preprocessing.make_test_windows"],
        )
    elif stage == "pacemaker_simulation":
        simulation = {"patients_per_class": spec["patients_per_class"]} if spec.get("patients_per_class") else {}
        slice_ = PipelineSlice(
            "af_rvae",
            env=spec.get("env"),
            to_nodes=["af_rvae.preprocessing.make_burden_series"],
            runtime_params={"af_rvae": {"simulation": simulation}},
        )
    else:
        raise ValueError(f"unknown data stage {stage!r}")
    median, times = _median_seconds(slice_.run, repeats)
    logging.disable(logging.NOTSET)
    return {"seconds": median, "runs": times}


def stage_peer(spec: dict) -> dict:
    import numpy as np
    import pandas as pd
    from rapidae.data import CMAPSS_preprocessor
    from rapidae.data.utils import add_noise, mnist_load_images, mnist_load_labels

    stage, repeats = spec["stage"], spec["repeats"]
    if stage in ("mnist_ingestion", "noise_injection"):
        folder = Path(os.environ["MNIST_DATA_DIR"])

        def ingest():  # the peer's load_MNIST on local files, then the notebooks' scaling
            images = [mnist_load_images(folder / f"{part}-images-idx3-ubyte.gz") for part in ("train", "t10k")]
            labels = [mnist_load_labels(folder / f"{part}-labels-idx1-ubyte.gz") for part in ("train", "t10k")]
            return [i.astype("float32") / 255.0 for i in images], labels

        if stage == "mnist_ingestion":
            run = ingest
        else:
            train, test = ingest()[0]  # the same 70,000 images as ours (training, validation and test)
            run = lambda: (add_noise(train, noise_factor=0.4), add_noise(test, noise_factor=0.4))  # noqa: E731
    elif stage == "cmapss_preprocessing":
        folder, subset = Path(os.environ["CMAPSS_DATA_DIR"]), spec.get("subset", "FD001")
        names = ["unit_nr", "time_cycles", "setting_1", "setting_2", "setting_3"] + [f"s_{i}" for i in range(1, 22)]

        def run():  # the peer's load_CMAPSS reading (local files), then its preprocessor
            train = pd.read_csv(folder / f"train_{subset}.txt", sep=r"\s+", header=None, names=names)
            test = pd.read_csv(folder / f"test_{subset}.txt", sep=r"\s+", header=None, names=names)
            rul = pd.read_csv(folder / f"RUL_{subset}.txt", sep=r"\s+", header=None, names=["RemainingUsefulLife"])
            return CMAPSS_preprocessor(train, test, rul, sensors=spec["sensors"], sequence_length=30, alpha=0.1)
    else:
        raise ValueError(f"the peer has no {stage!r} stage")
    np.random.seed(0)
    median, times = _median_seconds(run, repeats)
    return {"seconds": median, "runs": times}


def main() -> None:
    spec = json.loads(sys.argv[1])
    if spec.get("threads"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
    task = {
        ("ours", "train"): train_ours,
        ("peer", "train"): train_peer,
        ("ours", "stage"): stage_ours,
        ("peer", "stage"): stage_peer,
    }[(spec["side"], "stage" if "stage" in spec else "train")]
    result = task(spec)
    result.setdefault("peak_rss_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
