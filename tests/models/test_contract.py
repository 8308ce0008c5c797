"""One contract suite over every model of the library (``models.MODELS``).

Each model: builds, returns the promised output keys and shapes, gives a finite scalar
loss, changes its weights in one training step, leaves them unchanged in evaluation,
and round-trips through a ``.keras`` file (safe mode) to identical predictions.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autoencoder_pipelines.models import MODELS

rng = np.random.default_rng(0)
IMAGES = rng.random((16, 28, 28, 1)).astype("float32")
FLAT = IMAGES.reshape(16, 784)
LABELS = (np.arange(16) % 10).astype("int64")
WINDOWS = rng.normal(size=(16, 6, 3)).astype("float32")
RUL = rng.uniform(0, 125, 16).astype("float32")

DENSE = dict(input_shape=(784,), hidden_units=(8,), latent_dim=3, reconstruction_loss="binary_crossentropy", seed=0)

VQ = dict(input_shape=(28, 28, 1), filters=(4, 8), embedding_dim=4, num_embeddings=8, seed=0)
VQ_OUTPUTS = {"z_e": (16, 7, 7, 4), "z_q": (16, 7, 7, 4), "codes": (16, 7, 7), "reconstruction": (16, 28, 28, 1)}

# name -> (config, x, y, {output: shape})
CASES = {
    "autoencoder": (
        {**DENSE, "latent_activation": "sigmoid", "sparsity": "kl", "sparsity_weight": 0.1},
        FLAT,
        FLAT,
        {"code": (16, 3), "reconstruction": (16, 784)},
    ),
    "contractive_autoencoder": (
        {**DENSE, "latent_activation": "linear", "contractive_weight": 0.1},
        FLAT,
        FLAT,
        {"code": (16, 3), "reconstruction": (16, 784)},
    ),
    "vae": (
        dict(input_shape=(784,), hidden_units=(8,), latent_dim=2, seed=0),
        FLAT,
        FLAT,
        {"z_mean": (16, 2), "z_log_var": (16, 2), "z": (16, 2), "logits": (16, 784), "reconstruction": (16, 784)},
    ),
    "vq_vae": (VQ, IMAGES, IMAGES, VQ_OUTPUTS),
    # the codebook as moving averages of the encoder outputs, dead codes restarted
    "vq_vae[ema]": ({**VQ, "codebook_update": "ema", "dead_code_threshold": 1.0}, IMAGES, IMAGES, VQ_OUTPUTS),
    "vae_classifier": (
        dict(
            input_shape=(28, 28, 1),
            filters=(4, 8),
            dense_units=8,
            latent_dim=3,
            classifier_units=8,
            dropout=0.2,
            reconstruction_weight=1.0,
            kl_weight=1.0,
            classification_weight=10.0,
            translation=0.1,
            rotation=0.05,
            seed=0,
        ),
        IMAGES,
        LABELS,
        {
            "z_mean": (16, 3),
            "z_log_var": (16, 3),
            "z": (16, 3),
            "logits": (16, 28, 28, 1),
            "reconstruction": (16, 28, 28, 1),
            "class_logits": (16, 10),
            "probabilities": (16, 10),
            "input": (16, 28, 28, 1),
        },
    ),
    "recurrent_vae_classifier": (
        dict(
            input_shape=(6, 1),
            lstm_units=4,
            latent_dim=2,
            classifier_units=5,
            n_classes=6,
            reconstruction_weight=1.0,
            kl_weight=1.0,
            classification_weight=1.0,
            seed=0,
        ),
        WINDOWS[..., :1],
        LABELS % 6,
        {
            "z_mean": (16, 2),
            "z_log_var": (16, 2),
            "z": (16, 2),
            "reconstruction": (16, 6, 1),
            "class_logits": (16, 6),
            "probabilities": (16, 6),
        },
    ),
    "recurrent_vae": (
        dict(input_shape=(6, 3), lstm_units=4, regressor_units=5, mask_value=-99.0, seed=0, decoder=True),
        WINDOWS,
        RUL,
        {"z_mean": (16, 2), "z_log_var": (16, 2), "z": (16, 2), "rul": (16,), "reconstruction": (16, 6, 3)},
    ),
}


def _registered(case_name):
    """``"vq_vae[ema]"`` -> ``"vq_vae"``: a case may test a variant of a registered model."""
    return case_name.split("[")[0]


def test_every_registered_model_is_covered():
    assert {_registered(name) for name in CASES} == set(MODELS)


def _model(name):
    config, x, y, shapes = CASES[name]
    keras.utils.set_random_seed(0)
    model = MODELS[_registered(name)](config)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model, x, y, shapes


@pytest.fixture(params=sorted(CASES), scope="module")
def case(request):
    """One model per case, shared by the tests of that case (each checks one property
    that holds whatever the others did to the weights): its train, test and predict
    functions are traced once, which matters on JAX, where each is an XLA compilation."""
    return (request.param, *_model(request.param))


def test_builds_and_returns_the_named_outputs(case):
    _, model, x, _, shapes = case
    assert model.built and model.count_params() > 0
    outputs = model(x, training=False)
    assert {k: tuple(v.shape) for k, v in outputs.items()} == shapes


def test_loss_is_a_finite_scalar(case):
    _, model, x, y, _ = case
    loss = model.compute_loss(x, y, model(x, training=True))
    assert tuple(loss.shape) == () and np.isfinite(float(loss))


def test_one_training_step_changes_every_trainable_weight_group(case):
    _, model, x, y, _ = case
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    after = [w.numpy() for w in model.trainable_weights]
    changed = [not np.array_equal(b, a) for b, a in zip(before, after)]
    # Every kernel moves (biases of units that happen to be inactive may not).
    kernels = [c for c, w in zip(changed, model.trainable_weights) if "kernel" in w.path or "embeddings" in w.path]
    assert kernels and any(kernels) and sum(kernels) >= len(kernels) - 1


def test_ema_codebook_is_moved_by_training_not_by_the_optimiser():
    model, x, y, _ = _model("vq_vae[ema]")
    quantizer = model.quantizer
    assert all("quantizer" not in w.path for w in model.trainable_weights)
    before = quantizer.embeddings.numpy().copy()
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert not np.array_equal(before, quantizer.embeddings.numpy())
    # the loss minimised is w * reconstruction + beta * commitment: no codebook term
    logs = {k: v[-1] for k, v in history.history.items()}
    c = model.config
    assert np.isclose(
        logs["loss"],
        c.reconstruction_weight * logs["reconstruction_loss"] + c.commitment_cost * logs["commitment_loss"],
        rtol=1e-4,
    )


def test_every_model_trains_jitted_on_jax():
    # Keras falls back to an unjitted, op-by-op step when a layer says it cannot be jitted
    # (its image augmentation layers do); on TensorFlow's CPU it never jits by default.
    jitted = {name: _model(name)[0].jit_compile for name in CASES}
    assert jitted == dict.fromkeys(CASES, keras.backend.backend() == "jax")


def test_evaluation_and_prediction_leave_the_weights_unchanged(case):
    _, model, x, y, _ = case
    before = [w.numpy().copy() for w in model.weights]
    model.evaluate(x, y, batch_size=8, verbose=0)
    first = model.predict(x, verbose=0)
    second = model.predict(x, verbose=0)
    for b, w in zip(before, model.weights):
        np.testing.assert_array_equal(b, w.numpy())
    for key in first:  # inference is deterministic: latent means, no dropout
        np.testing.assert_array_equal(first[key], second[key])


def test_save_and_load_give_identical_predictions(case, tmp_path):
    name, model, x, y, _ = case
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    assert type(reloaded) is type(model) and reloaded.config == model.config
    expected, got = model.predict(x, verbose=0), reloaded.predict(x, verbose=0)
    for key in expected:
        np.testing.assert_array_equal(expected[key], got[key])


@pytest.mark.parametrize("name", sorted(CASES))
def test_trains_in_bfloat16_keeps_float32_weights_and_outputs_and_round_trips(name, tmp_path):
    """``training.mixed_precision: bfloat16``: the model is built under Keras'
    ``mixed_bfloat16`` policy; its losses are computed in float32 (targets included, which
    Keras casts to bfloat16 as model inputs), its outputs are float32, and the saved model
    computes in bfloat16 again after loading."""
    from autoencoder_pipelines.models.base import dtype_policy

    config, x, y, _ = CASES[name]
    keras.utils.set_random_seed(0)
    with dtype_policy("mixed_bfloat16"):
        model = MODELS[_registered(name)](config)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert {w.dtype for w in model.weights} == {"float32"}
    outputs = model.predict(x, verbose=0)
    assert {k: str(v.dtype) for k, v in outputs.items() if k != "codes"} == {k: "float32" for k in outputs if k != "codes"}
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    assert reloaded.dtype_policy.name == "mixed_bfloat16"
    for key, value in reloaded.predict(x, verbose=0).items():  # equal: computed in bfloat16 again
        np.testing.assert_array_equal(value, outputs[key])
