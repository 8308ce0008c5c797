"""The recurrent variational encoder: losses, masking, save/load and training."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from pydantic import ValidationError

from autoencoder_pipelines.models import RecurrentVAE, RecurrentVAEConfig
from autoencoder_pipelines.models.losses import kl_divergence, masked_mse
from autoencoder_pipelines.training import TrainingConfig
from autoencoder_pipelines.training.fit import fit_model
from autoencoder_pipelines.training.progress import reporting_to
from autoencoder_pipelines.training.seeds import restart_seeds

MASK = -99.0


def _config(**overrides) -> RecurrentVAEConfig:
    values = dict(input_shape=(6, 3), lstm_units=4, regressor_units=5, mask_value=MASK, seed=0)
    return RecurrentVAEConfig(**{**values, **overrides})


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6, 3)).astype("float32")
    y = (50 + 20 * x[:, -1, 0]).astype("float32")
    return x, y


def test_kl_divergence_is_zero_for_the_prior_and_matches_the_closed_form():
    zeros = np.zeros((2, 3), "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl_divergence(zeros, zeros)), [0, 0])
    mu, log_var = np.array([[1.0, -2.0]]), np.array([[np.log(4.0), 0.0]])
    expected = 0.5 * ((4 + 1 - 1 - np.log(4)) + (1 + 4 - 1 - 0))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl_divergence(mu, log_var)), [expected], rtol=1e-6)


def test_masked_mse_ignores_padded_steps():
    y_true = np.zeros((1, 3, 2), "float32")
    y_pred = np.array([[[9.0, 9.0], [1.0, 1.0], [3.0, 3.0]]], "float32")
    mask = np.array([[0, 1, 1]], "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(masked_mse(y_true, y_pred, mask)), [5.0])


@pytest.mark.parametrize("decoder", [False, True])
def test_outputs_and_finite_loss(decoder):
    model = RecurrentVAE(_config(decoder=decoder))
    x, y = _data(8)
    out = model(x, training=True)
    expected = {"z_mean", "z_log_var", "z", "rul"} | ({"reconstruction"} if decoder else set())
    assert set(out) == expected
    assert out["rul"].shape == (8,) and out["z_mean"].shape == (8, 2)
    if decoder:
        assert out["reconstruction"].shape == (8, 6, 3)
    loss = model.compute_loss(x, y, out)
    assert np.isfinite(float(loss))


def test_sample_weights_weigh_each_window_loss_as_keras_does():
    model = RecurrentVAE(_config())
    x, y = _data(4)
    out = model(x)  # deterministic: z is the mean
    unweighted = float(model.compute_loss(x, y, out))
    np.testing.assert_allclose(float(model.compute_loss(x, y, out, sample_weight=np.ones(4))), unweighted, rtol=1e-6)
    np.testing.assert_allclose(float(model.compute_loss(x, y, out, sample_weight=np.full(4, 2.0))), 2 * unweighted, rtol=1e-6)
    # weight 0 drops a window; the mean stays over the whole batch (Keras's "sum_over_batch_size")
    only_first = float(model.compute_loss(x[:1], y[:1], model(x[:1])))
    np.testing.assert_allclose(
        float(model.compute_loss(x, y, out, sample_weight=np.array([1.0, 0.0, 0.0, 0.0]))), only_first / 4, rtol=1e-5
    )


def test_masked_time_steps_do_not_change_the_encoding():
    model = RecurrentVAE(_config())
    x, _ = _data(1)
    padded = x.copy()
    padded[:, :2] = MASK
    # The same encoder weights on the unpadded 4-step tail must give the same code.
    short = RecurrentVAE(_config(input_shape=(4, 3))).encoder
    short.set_weights(model.encoder.get_weights())
    np.testing.assert_allclose(model.encode(padded), short.predict(x[:, 2:], verbose=0)[0], rtol=1e-5, atol=1e-6)


def test_inference_is_deterministic_and_training_samples():
    model = RecurrentVAE(_config())
    x, _ = _data(4)
    a, b = model(x)["rul"], model(x)["rul"]
    np.testing.assert_array_equal(a, b)
    out = model(x, training=True)
    assert not np.allclose(out["z"], out["z_mean"])


def test_save_and_load_round_trip_gives_identical_predictions(tmp_path):
    model = RecurrentVAE(_config(decoder=True))
    x, y = _data()
    model.compile(optimizer="adam")
    model.fit(x, y, epochs=1, verbose=0)  # trained only through fit, never called directly
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, RecurrentVAE) and loaded.config == model.config
    for key, value in model.predict(x, verbose=0).items():
        np.testing.assert_array_equal(loaded.predict(x, verbose=0)[key], value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lstm_units", 0),
        ("window", -1),
        ("kl_weight", -0.5),
        ("unknown", 1),
        ("rul_range", (125.0, 0.0)),
        ("rul_offset", "median"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValidationError, match=field):
        _config(**{field: value})


# --- fit_model ----------------------------------------------------------------------


def _training(tmp_path, **overrides) -> TrainingConfig:
    # Eager on TensorFlow: a fit of a few batches costs less than tracing its steps (the
    # compiled path: the XLA case below and the pipeline tests). Compiled on JAX (the GPU
    # path), whose eager mode compiles every operation on its own (the resume test: 56 s -> 14 s).
    values = dict(seed=1, epochs=4, batch_size=16, learning_rate=1e-2, patience=10, backup_dir=tmp_path / "backups")
    values |= dict(verbose=0, run_eagerly=keras.backend.backend() == "tensorflow")
    return TrainingConfig(**{**values, **overrides})


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


class _Queue:
    """What a live view's queue receives, put in ``events``."""

    def __init__(self, events: list):
        self.put_nowait = events.append


class _EpochRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_same_seed_gives_the_same_training(tmp_path):
    x, y = _data()
    runs = [fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), _training(tmp_path), run_key=f"r{i}")[1] for i in range(2)]
    assert runs[0] == runs[1]


def test_fit_model_trains_and_validates_with_sample_weights(tmp_path):
    x, y = _data()
    ones = np.ones(len(x), "float32")
    train = lambda: RecurrentVAE(_config())  # noqa: E731
    unweighted = fit_model(train, x, y, (x, y), _training(tmp_path), run_key="a")[1]
    # training weights of one: the unweighted training; validation weights of a half: its validation loss halved
    halved = fit_model(train, x, y, (x, y, ones / 2), _training(tmp_path), run_key="c", sample_weight=ones)[1]
    np.testing.assert_allclose(halved["loss"], unweighted["loss"], rtol=1e-5)
    np.testing.assert_allclose(halved["val_loss"], np.array(unweighted["val_loss"]) / 2, rtol=1e-5)
    # weight only the first window: the training loss is no longer the unweighted one
    first = np.zeros(len(x), "float32")
    first[0] = 1.0
    one_window = fit_model(train, x, y, (x, y), _training(tmp_path), run_key="d", sample_weight=first)[1]
    assert one_window["loss"][0] < unweighted["loss"][0] / 10


def test_an_interrupted_fit_resumes_from_the_saved_epoch_and_ends_as_an_uninterrupted_fit(tmp_path):
    x, y = _data()
    config = _training(tmp_path, lr_decay=0.5)
    uninterrupted, uninterrupted_history = fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), config, "whole")
    with pytest.raises(KeyboardInterrupt):
        fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), config, "run", callbacks=[_Interrupt(at_epoch=1)])
    state = json.loads((config.backup_dir / "run" / "state.json").read_text())
    assert state["epoch"] == 2 and len(state["history"]["loss"]) == 2

    recorder = _EpochRecorder()
    model, history = fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), config, "run", callbacks=[recorder])
    assert recorder.epochs == [2, 3]  # only the epochs that were left
    assert int(model.optimizer.iterations) == 4 * 3  # 48 samples / 16: the step count went on
    assert len(history["val_loss"]) == 4
    assert history["loss"][:2] == state["history"]["loss"]
    assert not (config.backup_dir / "run").exists()  # removed once training has finished
    # The batch order and the sampling noise of epochs 3 and 4 are those of the uninterrupted fit.
    assert history == uninterrupted_history
    for resumed, whole in zip(model.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_array_equal(resumed, whole)


@pytest.mark.parametrize("monitor", ["val_loss", "val_regression_loss"])
def test_early_stopping_restores_the_best_weights_of_the_monitored_key(tmp_path, monitor):
    x, y = _data()
    best = {}

    class _Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs[monitor] <= min(best.get("loss", np.inf), logs[monitor]):
                best.update(loss=logs[monitor], weights=self.model.get_weights())

    # A huge learning rate makes validation loss jump around; patience stops it.
    config = _training(tmp_path, epochs=12, patience=2, learning_rate=5.0, monitor=monitor)
    model, history = fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), config, "es", callbacks=[_Snapshot()])
    assert min(history[monitor]) == pytest.approx(best["loss"])
    for restored, expected in zip(model.get_weights(), best["weights"]):
        np.testing.assert_array_equal(restored, expected)


def test_a_monitor_the_model_does_not_report_is_refused_by_name(tmp_path):
    x, y = _data()
    config = _training(tmp_path, epochs=2, monitor="val_classification_loss")
    with pytest.raises(KeyError, match=r"training.monitor: 'val_classification_loss' .*'val_loss'.*'val_regression_loss'"):
        fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), config, "missing")
    with pytest.raises(ValueError, match="monitor"):  # an accuracy is not a loss to minimise
        _training(tmp_path, monitor="val_accuracy")


@pytest.mark.parametrize(
    "options", [{"mixed_precision": True}, {"mixed_precision": "bfloat16"}, {"jit_compile": True, "run_eagerly": False}]
)
def test_mixed_precision_and_xla_train_and_keep_float32_outputs(tmp_path, options):
    x, y = _data()
    config = _training(tmp_path, epochs=1, **options)
    model, history = fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), config, "opt")
    assert np.isfinite(history["loss"][0])
    out = model.predict(x, verbose=0)
    assert out["rul"].dtype == np.float32 and out["z_mean"].dtype == np.float32
    if options.get("mixed_precision"):
        expected = "bfloat16" if options["mixed_precision"] == "bfloat16" else "float16"
        assert model.encoder.get_layer("bilstm").compute_dtype == expected
        assert model.encoder.get_layer("bilstm").variable_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_the_learning_rate_decays_per_epoch(tmp_path):
    x, y = _data()
    model, _ = fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), _training(tmp_path, epochs=3, lr_decay=0.5), "lr")
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-2 * 0.5**3)


def test_the_rul_output_starts_at_its_bias():
    model = RecurrentVAE(_config(rul_bias=80.0))
    model.regressor.get_layer("rul").kernel.assign(np.zeros((5, 1), "float32"))
    np.testing.assert_allclose(model.predict(_data(4)[0], verbose=0)["rul"], 80.0)


def test_predict_keeps_the_rul_within_the_labels_range_and_training_sees_the_raw_output():
    x = _data(4)[0]
    high = RecurrentVAE(_config(rul_bias=140.0, rul_range=(0.0, 125.0)))
    low = RecurrentVAE(_config(rul_bias=-7.0, rul_range=(0.0, 125.0)))
    for model in (high, low):
        model.regressor.get_layer("rul").kernel.assign(np.zeros((5, 1), "float32"))
    np.testing.assert_allclose(high.predict(x, verbose=0)["rul"], 125.0)
    np.testing.assert_allclose(high.predict_on_batch(x)["rul"], 125.0)
    np.testing.assert_allclose(low.predict(x, verbose=0)["rul"], 0.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(high(x)["rul"]), 140.0)  # call: what the loss sees
    shifted = RecurrentVAE(_config(rul_bias=100.0, rul_range=(0.0, 125.0), rul_offset=-4.5))
    shifted.regressor.get_layer("rul").kernel.assign(np.zeros((5, 1), "float32"))
    np.testing.assert_allclose(shifted.predict(x, verbose=0)["rul"], 95.5)
    np.testing.assert_allclose(shifted.raw_rul(x), 100.0)
    loss = high.compute_loss(x, np.full(4, 125.0, "float32"), high(x))
    assert float(high.regression_tracker.result()) == pytest.approx(15.0**2)
    assert np.isfinite(float(loss))


def test_run_fingerprint_changes_with_configuration_and_data_only():
    from autoencoder_pipelines.training.seeds import run_fingerprint

    x = np.arange(12.0).reshape(3, 4)
    assert run_fingerprint({"a": 1}, x) == run_fingerprint({"a": 1}, x.copy())
    assert run_fingerprint({"a": 1}, x) != run_fingerprint({"a": 2}, x)
    assert run_fingerprint({"a": 1}, x) != run_fingerprint({"a": 1}, x + 1)
    assert run_fingerprint({"a": 1}, x) != run_fingerprint({"a": 1}, x.reshape(4, 3))  # same bytes, other shape


def test_weight_decay_selects_adamw(tmp_path):
    x, y = _data(16)
    training = TrainingConfig(
        seed=0, epochs=1, batch_size=8, learning_rate=1e-3, patience=1, backup_dir=tmp_path, verbose=0, weight_decay=0.01
    )
    model, _ = fit_model(lambda: RecurrentVAE(_config()), x, y, (x, y), training, run_key="wd")
    assert isinstance(model.optimizer, keras.optimizers.AdamW) and model.optimizer.weight_decay == 0.01


def test_restart_seeds_start_at_the_seed_and_never_overlap_between_seeds():
    assert restart_seeds(42, 1) == [42]
    seeds = {s: restart_seeds(s, 3) for s in (42, 43, 44)}
    assert [v[0] for v in seeds.values()] == [42, 43, 44]
    assert len({seed for v in seeds.values() for seed in v}) == 9
    assert restart_seeds(42, 3) == seeds[42]  # deterministic


def test_restarts_go_on_with_the_lowest_validation_loss_and_resume_if_killed(tmp_path):
    x, y = _data()
    config = _training(tmp_path, restarts=2, restart_epochs=2, epochs=4)
    build = lambda: RecurrentVAE(_config())  # noqa: E731
    # what each restart reaches in its first two epochs, trained alone
    alone = [
        fit_model(build, x, y, (x, y), _training(tmp_path, seed=seed, epochs=2), run_key=f"alone{seed}")[1]
        for seed in restart_seeds(1, 2)
    ]
    winner = int(np.argmin([min(h["val_loss"]) for h in alone]))

    recorder, killed_view, resumed_view = _EpochRecorder(), [], []
    with pytest.raises(KeyboardInterrupt), reporting_to(_Queue(killed_view), "m"):  # killed in the final phase, after epoch 3
        fit_model(build, x, y, (x, y), config, "run", callbacks=[_Interrupt(at_epoch=2)])
    assert sorted(p.name for p in (config.backup_dir / "run").iterdir()) == ["restart-0", "restart-1"]
    with reporting_to(_Queue(resumed_view), "m"):
        model, history = fit_model(build, x, y, (x, y), config, "run", callbacks=[recorder])
    assert recorder.epochs == [3]  # resumed: no restart trained again
    # a live view hears that the winner trains on, and of a resume only after the kill
    chosen = {"line": "m", "note": f"restart {winner + 1}/2 chosen"}
    assert killed_view == [chosen]  # went on from the chosen restart's epoch 2: no resume (killed before its report)
    assert resumed_view[:2] == [chosen, {"line": "m", "resumed": 3}] and [e["epoch"] for e in resumed_view[2:]] == [4]
    assert len(history["val_loss"]) == 4
    np.testing.assert_allclose(history["val_loss"][:2], alone[winner]["val_loss"], rtol=1e-5)
    assert not (config.backup_dir / "run").exists()


def test_restart_epochs_must_end_before_training_does(tmp_path):
    with pytest.raises(ValidationError, match="restart_epochs"):
        _training(tmp_path, restarts=2, restart_epochs=4, epochs=4)
    _training(tmp_path, restarts=1, restart_epochs=4, epochs=4)  # unused without restarts
