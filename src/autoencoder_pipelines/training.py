"""The trainer: fitting a Keras model with devices, precision, seeding, early stopping
and resumption.

One function, :func:`fit_model`, used by every pipeline's training node (through
``pipelines.common.fit_configured_model``). The models themselves are backend-agnostic;
what depends on the Keras backend lives here:

- runs where the backend finds devices: one GPU, several GPUs or the CPU, with no code
  change. Several GPUs train data-parallel: ``tf.distribute.MirroredStrategy`` on
  TensorFlow, ``keras.distribution.DataParallel`` on JAX;
- seeded, with deterministic ops when asked (TensorFlow's op determinism; on JAX, XLA's
  deterministic GPU ops; JAX on the CPU is deterministic already);
- mixed precision (``mixed_float16`` or ``mixed_bfloat16``) and XLA compilation as options;
- Adam, or AdamW with ``weight_decay``; an optional exponential learning-rate decay per epoch;
- early stopping on ``val_loss``, restoring the best weights;
- optionally several initialisations, the one with the lowest validation loss after a
  few epochs trained on (``restarts``);
- a backup at the end of every epoch (weights, optimizer state, early-stopping state
  and history), so a killed run started again resumes where it stopped; the backup is
  removed once training has finished. The batch order and the model's noise of every
  epoch are derived from ``(seed, epoch)`` (:class:`EpochRandomness`),
  so a resumed run ends exactly where an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from autoencoder_pipelines.models.base import dtype_policy
from autoencoder_pipelines.models.config import TrainingConfig
from autoencoder_pipelines.run_lock import only_run_of

logger = logging.getLogger(__name__)

History = dict[str, list[float]]


def run_fingerprint(*parts) -> str:
    """A short hash of configuration and data; a backup is resumed only by the run with
    the same fingerprint (same settings, same arrays)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(str((part.shape, part.dtype)).encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and the Keras backend; optionally make the backend's ops deterministic."""
    keras.utils.set_random_seed(seed)
    if not deterministic:
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415 - TensorFlow only on its own backend

        tf.config.experimental.enable_op_determinism()
    elif backend == "jax":
        # JAX is deterministic on the CPU; on GPUs XLA needs this flag, read when JAX
        # starts its GPU backend (so it holds for a process that has not used one yet).
        flags = os.environ.get("XLA_FLAGS", "")
        if "--xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()
    else:
        raise NotImplementedError(
            f"deterministic=True is implemented for the tensorflow and jax Keras backends; the backend is {backend!r}."
        )


class Devices:
    """Where a model trains, chosen once per run: the scope its model is built in and
    the scope ``fit`` runs in.

    TensorFlow: ``MirroredStrategy`` over all visible GPUs when there are several, else
    the default strategy. JAX: ``keras.distribution.DataParallel`` over all GPUs when
    there are several (the batch is split across them), else none.
    """

    def __init__(self) -> None:
        self.backend = keras.backend.backend()
        self._strategy = None
        self._distribution = None
        if self.backend == "tensorflow":
            import tensorflow as tf  # noqa: PLC0415

            gpus = tf.config.list_logical_devices("GPU")
            if len(gpus) > 1:
                logger.info("Training on %d GPUs with MirroredStrategy.", len(gpus))
                self._strategy = tf.distribute.MirroredStrategy()
            else:
                logger.info("Training on %s.", gpus[0].name if gpus else "the CPU")
                self._strategy = tf.distribute.get_strategy()
        elif self.backend == "jax":
            gpus = [d for d in keras.distribution.list_devices() if d.startswith("gpu")]  # e.g. "gpu:0"
            if len(gpus) > 1:
                logger.info("Training on %d GPUs with keras.distribution.DataParallel.", len(gpus))
                self._distribution = keras.distribution.DataParallel(devices=gpus)
            else:
                logger.info("Training on %s.", gpus[0] if gpus else "the CPU")

    def build_scope(self):
        """Variables created here are placed (and mirrored) across the devices."""
        if self._strategy is not None:
            return self._strategy.scope()
        return self.fit_scope()

    def fit_scope(self):
        """``fit`` splits each batch across the devices in here (JAX's distribution is global)."""
        if self._distribution is not None:
            return self._distribution.scope()
        return contextlib.nullcontext()


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` whose progress (best value, wait, best weights) can be restored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._resume: dict | None = None

    def state(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch}

    def resume_from(self, state: dict, best_weights: list[np.ndarray] | None) -> None:
        self._resume = {**state, "best_weights": best_weights}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._resume is not None:
            self.wait = self._resume["wait"]
            self.best = self._resume["best"]
            self.best_epoch = self._resume["best_epoch"]
            self.best_weights = self._resume["best_weights"]


class EpochBackup(keras.callbacks.Callback):
    """Writes the training state at the end of every epoch, atomically.

    Files in ``directory``: ``latest.weights.h5`` (weights and optimizer variables),
    ``best.npz`` (the early-stopping best weights) and ``state.json`` (epochs done,
    early-stopping state, history). ``state.json`` is replaced last, by a rename, so a
    kill at any moment leaves the previous complete backup in place.
    """

    def __init__(self, directory: Path, early_stopping: ResumableEarlyStopping):
        super().__init__()
        self.directory = Path(directory)
        self.early_stopping = early_stopping
        self.history: History = {}

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def restore(self, model: keras.Model) -> int:
        """Load a previous backup into ``model`` and the early stopping; return epochs done."""
        if not self.state_path.exists():
            return 0
        state = json.loads(self.state_path.read_text())
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.directory / state["weights"])
        best = None
        if state["best_weights"] is not None:
            with np.load(self.directory / state["best_weights"]) as archive:
                best = [archive[f"arr_{i}"] for i in range(len(archive.files))]
        self.early_stopping.resume_from(state["early_stopping"], best)
        self.history = {k: list(v) for k, v in state["history"].items()}
        logger.info("Resuming training from the backup in %s after epoch %d.", self.directory, state["epoch"])
        return int(state["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.directory.mkdir(parents=True, exist_ok=True)
        # Alternate between two slots so the files named by the current state.json are
        # never overwritten before the new state.json is in place.
        slot = epoch % 2
        weights = f"weights-{slot}.weights.h5"
        self.model.save_weights(self.directory / weights)
        best_name = None
        if self.early_stopping.best_weights is not None:
            best_name = f"best-{slot}.npz"
            np.savez(self.directory / best_name, *self.early_stopping.best_weights)
        state = {
            "epoch": epoch + 1,
            "weights": weights,
            "best_weights": best_name,
            "early_stopping": self.early_stopping.state(),
            "history": self.history,
        }
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_path)


def derived_seed(*entropy: int) -> int:
    """A 31-bit seed derived from integers such as ``(seed, epoch)`` by NumPy's
    ``SeedSequence``: neighbouring inputs give unrelated seeds."""
    return int(np.random.SeedSequence(list(entropy)).generate_state(1)[0] >> 1)


class EpochBatches(keras.utils.PyDataset):
    """Training arrays in shuffled batches, the order of each epoch derived from ``(seed, epoch)``.

    Keras' own ``shuffle=True`` does not continue across a resumed run: on TensorFlow,
    with a global seed set, it draws the same permutation in every epoch (the shuffle op
    is re-created with the same seed each epoch), and on JAX it draws from NumPy's global
    state, which a resumed process does not have. Here epoch ``e`` always sees the same
    order, whichever process trains it, and different epochs see different orders.
    :class:`EpochRandomness` sets the epoch.

    What ``fit`` is given is :meth:`for_fit`: on TensorFlow a ``tf.data`` pipeline of the
    same batches (Keras feeds a ``PyDataset`` through ``tf.data.Dataset.from_generator``,
    one Python call per batch, which cost the recurrent model 45% more CPU per window
    than the arrays themselves; benchmarks/README.md), on JAX this ``PyDataset``.
    """

    def __init__(self, arrays: tuple, batch_size: int, seed: int):
        super().__init__()
        self.arrays = tuple(a for a in arrays if a is not None)
        self.batch_size = batch_size
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self._order = np.random.default_rng([self.seed, epoch]).permutation(len(self.arrays[0]))

    def __len__(self) -> int:
        return math.ceil(len(self.arrays[0]) / self.batch_size)

    def _rows(self, index: int) -> np.ndarray:
        return np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])

    def __getitem__(self, index: int) -> tuple:
        rows = self._rows(index)
        return tuple(a[rows] for a in self.arrays)

    def epoch_rows(self) -> np.ndarray:
        """The rows of every batch of the current epoch, batch after batch."""
        return np.concatenate([self._rows(i) for i in range(len(self))]).astype(np.int64)

    def for_fit(self):
        """What ``fit`` trains on: the ``tf.data`` pipeline on TensorFlow, else ``self``."""
        if keras.backend.backend() != "tensorflow":
            return self
        import tensorflow as tf  # noqa: PLC0415 - TensorFlow only on its own backend

        tensors = tuple(tf.constant(a) for a in self.arrays)
        # One Python call per epoch, when Keras starts the epoch's iterator (after
        # EpochRandomness has set the epoch); then slicing and gathers in tf.data.
        rows = tf.data.Dataset.from_tensors(0).map(
            lambda _: tf.ensure_shape(tf.numpy_function(self.epoch_rows, [], tf.int64, stateful=True), [None])
        )
        batches = rows.flat_map(lambda r: tf.data.Dataset.from_tensor_slices(r).batch(self.batch_size))
        batches = batches.map(lambda r: tuple(tf.gather(t, r) for t in tensors))
        return batches.apply(tf.data.experimental.assert_cardinality(len(self))).prefetch(2)


class EpochRandomness(keras.callbacks.Callback):
    """At the start of each epoch, derives its randomness from ``(seed, epoch)``: the batch
    order of :class:`EpochBatches` and the state of every random-number generator of the
    model (``keras.random.SeedGenerator``: sampling, dropout, noise layers), the ``i``-th
    from ``(seed, epoch, i)``.

    Keras does not save the generators' states with the weights, so without this a
    resumed run would draw other noise than the run it continues."""

    def __init__(self, seed: int, batches: EpochBatches):
        super().__init__()
        self.seed = seed
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        for i, state in enumerate(states):
            state.assign(np.array([derived_seed(self.seed, epoch, i), 0]).astype(state.dtype))


def restart_seeds(seed: int, restarts: int) -> list[int]:
    """Seeds of the restarts: ``seed`` itself first, then seeds derived from ``(seed, i)``.

    Derived through NumPy's ``SeedSequence``, so the restarts of different seeds never
    share an initialisation (``seed + i`` would: seed 42's second restart would be seed 43).
    """
    return [seed] + [int(np.random.SeedSequence([seed, i]).generate_state(1)[0]) for i in range(1, restarts)]


def fit_model(
    build_model: Callable[[], keras.Model],
    x_train,
    y_train,
    validation_data: tuple,
    config: TrainingConfig,
    run_key: str,
    callbacks: list[keras.callbacks.Callback] | None = None,
    sample_weight=None,
) -> tuple[keras.Model, History]:
    """Build, compile and fit a model; resume from a backup of the same run if one exists.

    With ``config.restarts`` > 1, each of that many initialisations (:func:`restart_seeds`)
    first trains for ``config.restart_epochs`` epochs; the one with the lowest validation
    loss so far then trains on, from where it stopped, to the end (early stopping). The
    others are discarded. A killed run resumes in whichever phase it was.

    Args:
        build_model: returns a new, built model; called inside the distribution
            devices' build scope and the dtype policy.
        x_train, y_train: training inputs and targets (NumPy).
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``,
            monitored for early stopping.
        config: training settings.
        run_key: identifies the run (configuration + data) so that only a backup of the
            very same run is resumed: backups live in ``config.backup_dir / run_key``.
        callbacks: extra Keras callbacks of the final training (not of the restarts'
            first epochs), called after early stopping and the backup.
        sample_weight: optional per-sample weights of the training loss (NumPy).

    Returns:
        The model with the weights of its best validation epoch, and the per-epoch
        history (loss terms for training and validation) of the whole run.
    """
    directory = Path(config.backup_dir) / run_key
    with only_run_of(directory):
        return _fit_with_restarts(build_model, x_train, y_train, validation_data, config, directory, callbacks, sample_weight)


def _fit_with_restarts(build_model, x_train, y_train, validation_data, config, directory, callbacks, sample_weight):
    fit = functools.partial(
        _fit, build_model, x_train, y_train, validation_data, config, Devices(), sample_weight=sample_weight
    )
    if config.restarts == 1:
        model, history = fit(config.seed, directory, config.epochs, callbacks)
    else:
        seeds = restart_seeds(config.seed, config.restarts)
        scores = []
        for i, seed in enumerate(seeds):
            _, first_epochs = fit(seed, directory / f"restart-{i}", config.restart_epochs, None)
            # Only the first restart_epochs count: a resumed run may find the winner further on.
            scores.append(min(first_epochs["val_loss"][: config.restart_epochs]))
            logger.info(
                "Restart %d/%d (seed %d): best validation loss %.4g in its first %d epochs.",
                i + 1, len(seeds), seed, scores[-1], config.restart_epochs,
            )
        winner = int(np.argmin(scores))
        logger.info("Training on restart %d (seed %d), the lowest validation loss.", winner + 1, seeds[winner])
        model, history = fit(seeds[winner], directory / f"restart-{winner}", config.epochs, callbacks)
    shutil.rmtree(directory, ignore_errors=True)
    return model, history


def _fit(
    build_model, x_train, y_train, validation_data, config: TrainingConfig, devices: Devices,
    seed: int, directory: Path, epochs: int, callbacks, sample_weight=None,
) -> tuple[keras.Model, History]:
    """One model from ``seed``, fitted up to ``epochs`` with the per-epoch backup in ``directory``."""
    seed_everything(seed, config.deterministic)
    with dtype_policy(config.dtype_policy), devices.build_scope():
        model = build_model()
        learning_rate = config.learning_rate
        if config.lr_decay < 1.0:
            # A function of the optimizer's step count, which the backup restores.
            learning_rate = keras.optimizers.schedules.ExponentialDecay(
                config.learning_rate,
                decay_steps=math.ceil(len(x_train) / config.batch_size),
                decay_rate=config.lr_decay,
                staircase=True,
            )
        optimizer = (
            keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=config.weight_decay)
            if config.weight_decay > 0
            else keras.optimizers.Adam(learning_rate=learning_rate)
        )
        model.compile(
            optimizer=optimizer,
            jit_compile=False if config.run_eagerly else config.jit_compile,
            run_eagerly=config.run_eagerly,
        )
    early_stopping = ResumableEarlyStopping(
        monitor="val_loss",
        patience=config.patience,
        min_delta=config.min_delta,
        restore_best_weights=True,
        verbose=1 if config.verbose else 0,
    )
    backup = EpochBackup(directory, early_stopping)
    with devices.build_scope():
        initial_epoch = backup.restore(model)
    batches = EpochBatches((x_train, y_train, sample_weight), config.batch_size, seed)
    with devices.fit_scope():
        model.fit(
            batches.for_fit(),
            validation_data=validation_data,
            validation_batch_size=config.batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # EpochBatches shuffles
            callbacks=[EpochRandomness(seed, batches), early_stopping, backup, *(callbacks or [])],
            verbose=config.verbose,
        )
    return model, backup.history


# --- Ensembles: members trained in parallel on Ray ----------------------------------

_MEMBER = 0x6D656D62  # "memb": member seeds never coincide with restart seeds (SeedSequence([seed, i]))


def member_seeds(seed: int, members: int) -> list[int]:
    """Seeds of an ensemble's members: ``seed`` itself first (a one-member ensemble is the
    single run of that seed), then seeds derived from ``(seed, i)``, distinct from the
    restarts' (:func:`restart_seeds`)."""
    return [seed] + [int(np.random.SeedSequence([seed, _MEMBER, i]).generate_state(1)[0]) for i in range(1, members)]


def _fit_member(build_model, x_train, y_train, validation_data, config, run_key, callbacks, sample_weight):
    """One member, in a Ray worker: returns its weights (not the model: Keras objects stay
    in the process that made them) and history."""
    model, history = fit_model(
        build_model, x_train, y_train, validation_data, config, run_key, callbacks=callbacks, sample_weight=sample_weight
    )
    return [np.asarray(w) for w in model.get_weights()], history


def fit_members(
    build_model: Callable[[int], keras.Model],
    x_train,
    y_train,
    validation_data: tuple,
    config: TrainingConfig,
    run_key: str,
    callbacks: list[keras.callbacks.Callback] | None = None,
    sample_weight=None,
) -> tuple[list[keras.Model], list[History], list[int]]:
    """Fit ``config.ensemble.members`` models, one per seed of :func:`member_seeds`, as Ray tasks.

    Ray: an existing cluster when ``RAY_ADDRESS`` is set (or Ray is already initialised in
    this process), else a local Ray started here on all the machine's CPUs and stopped
    after. Each member reserves ``cpus_per_member`` CPUs and its worker runs that many
    compute threads. A member whose worker dies is started again (``max_retries``) and
    resumes from its epoch backup in ``config.backup_dir / f"{run_key}-member{i}"``: on a
    cluster, ``backup_dir`` must be storage every node sees.

    Args:
        build_model: ``seed -> new built model`` (the member's own noise seeded by it).
        callbacks: extra Keras callbacks of every member, pickled to the workers.
        Others: as :func:`fit_model`.

    Returns:
        The members (rebuilt here with their trained weights), their histories and seeds,
        in member order.
    """
    import ray  # noqa: PLC0415 - only ensembles need Ray

    from autoencoder_pipelines.parallel import ray_runtime, thread_limits  # noqa: PLC0415

    ensemble = config.ensemble
    seeds = member_seeds(config.seed, ensemble.members)
    with ray_runtime():
        task = ray.remote(_fit_member).options(
            num_cpus=ensemble.cpus_per_member,
            num_gpus=ensemble.gpus_per_member,
            max_retries=ensemble.max_retries,
            runtime_env={"env_vars": thread_limits(ensemble.cpus_per_member)},
        )
        shared = [ray.put(a) for a in (x_train, y_train, validation_data, sample_weight)]
        # Workers may run in another directory (or machine): the backups' path made absolute.
        member_config = config.model_copy(
            update={"backup_dir": Path(config.backup_dir).resolve(), "ensemble": ensemble.model_copy(update={"members": 1})}
        )
        refs = [
            task.remote(
                functools.partial(build_model, seed),
                shared[0],
                shared[1],
                shared[2],
                member_config.model_copy(update={"seed": seed}),
                f"{run_key}-member{i}",
                callbacks,
                shared[3],
            )
            for i, seed in enumerate(seeds)
        ]
        logger.info(
            "Training %d ensemble members on Ray (%s CPUs), %d CPU(s) each; seeds %s.",
            len(seeds), ray.cluster_resources().get("CPU"), ensemble.cpus_per_member, seeds,
        )
        results = ray.get(refs)
    members, histories = [], []
    for i, seed in enumerate(seeds):
        weights, history = results[i]
        with dtype_policy(config.dtype_policy):
            member = build_model(seed)
        member.set_weights(weights)
        members.append(member)
        histories.append(history)
        logger.info("Member %d (seed %d): best validation loss %.4g.", i, seed, min(history["val_loss"]))
    return members, histories, seeds
