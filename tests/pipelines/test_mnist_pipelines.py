"""The six MNIST pipelines run through Kedro (``env="test"``) on a few hundred generated images."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from kedro.validation import ParameterValidationError

from autoencoder_pipelines.data.mnist import MNISTValidationError
from tests.conftest import write_mnist
from tests.pipelines.kedro_project import latest, make_project, run_pipeline

# pipeline -> (metrics that must be there, figures, input layout)
EXPECTED = {
    "denoising_ae": ({"mse", "psnr", "noisy_input_mse", "noisy_input_psnr"}, {"denoising"}, (784,)),
    "sparse_ae": ({"mse", "mean_activation", "active_fraction"}, {"reconstructions", "code_activity"}, (784,)),
    "contractive_ae": ({"contractive", "plain", "jacobian_norm_ratio"}, {"reconstructions"}, (784,)),
    "vae": (
        {"neg_elbo", "reconstruction", "kl", "neg_log_likelihood_iwae"},
        {"reconstructions", "latent_space", "latent_grid"},
        (784,),
    ),
    "vq_vae": ({"mse", "perplexity", "codes_used"}, {"reconstructions", "code_maps"}, (28, 28, 1)),
    "vae_classifier": (
        {"accuracy", "macro_f1", "per_class", "confusion_matrix"},
        {"confusion_matrix", "latent_space"},
        (28, 28, 1),
    ),
}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the project's configuration in a temporary folder, with MNIST-like files."""
    return make_project(tmp_path, monkeypatch, MNIST_DATA_DIR=str(write_mnist(tmp_path / "raw")))


def _run(project: Path, pipeline: str, **runtime_params):
    return run_pipeline(project, pipeline, **runtime_params)


_latest = latest


# pipeline -> its promotion metric (conf/base/parameters_<pipeline>.yml)
PROMOTION_METRICS = {
    "denoising_ae": "mse",
    "sparse_ae": "mse",
    "contractive_ae": "contractive.mse",
    "vae": "neg_elbo",
    "vq_vae": "mse",
    "vae_classifier": "accuracy",
}


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", sorted(EXPECTED))
def test_pipeline_runs_end_to_end_and_writes_versioned_outputs(project, pipeline):
    # <pipeline>_retrain: the task's pipeline, and its promotion stage on an empty registry
    catalog = _run(project, f"{pipeline}_retrain")
    keys, figures, shape = EXPECTED[pipeline]
    reports = project / "data/08_reporting" / pipeline
    metrics = json.loads(_latest(reports / "metrics.json").read_text())
    assert set(metrics) >= keys
    for figure in figures:
        assert _latest(reports / f"{figure}.png").read_bytes()[:4] == b"\x89PNG"

    # Scaled, split inputs in the model's layout: 300 training images -> 270 / 30.
    x_train, x_val, x_test = (catalog.load(f"{pipeline}.x_{s}") for s in ("train", "val", "test"))
    assert x_train.shape == (270, *shape) and x_val.shape == (30, *shape) and x_test.shape == (100, *shape)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() <= 1

    # The model is versioned and reloads (safe mode) to the same predictions.
    assert _latest(project / "data/06_models" / pipeline / "model.keras").exists()
    model = catalog.load(f"{pipeline}.model")
    assert isinstance(model, keras.Model)
    outputs = model.predict(x_test[:5], verbose=0)
    assert all(np.all(np.isfinite(v)) for v in outputs.values())
    assert not list((project / "data/06_models/backups").glob("*"))

    # The first challenger became the champion of the task's own registered model, and
    # carries its metrics and data settings.
    from mlflow import MlflowClient

    from autoencoder_pipelines.promotion import metric_value
    from autoencoder_pipelines.registry import load_champion

    decision = json.loads(_latest(reports / "promotion_decision.json").read_text())
    assert decision["promote"] is True and decision["metric"] == PROMOTION_METRICS[pipeline]
    assert decision["challenger"] == pytest.approx(metric_value(metrics, decision["metric"], "challenger"))
    champion = load_champion(pipeline, client=MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}"))
    assert champion.version == "1" and champion.metadata["data"]["layout"] in ("flat", "image")
    assert json.loads(_latest(reports / "champion_metrics.json").read_text()) == {"version": None}


@pytest.mark.slow
def test_denoising_compares_with_the_clean_images_and_reports_the_noisy_baseline(project):
    _run(project, "denoising_ae")
    out = project / "data"
    clean = np.load(_latest(out / "05_model_input/denoising_ae/x_test.npy"))
    noisy = np.load(_latest(out / "05_model_input/denoising_ae/noisy_x_test.npy"))
    denoised = np.load(_latest(out / "07_model_output/denoising_ae/denoised_x_test.npy"))
    metrics = json.loads(_latest(out / "08_reporting/denoising_ae/metrics.json").read_text())
    assert metrics["mse"] == pytest.approx(np.mean((denoised.astype(np.float64) - clean) ** 2), rel=1e-6)
    assert metrics["noisy_input_mse"] == pytest.approx(np.mean((noisy.astype(np.float64) - clean) ** 2), rel=1e-6)
    assert 0.02 < metrics["noisy_input_mse"] < 0.1  # Gaussian noise of std 0.3, clipped to [0, 1]


@pytest.mark.parametrize(
    ("file", "corrupt", "message"),
    [
        ("train-images-idx3-ubyte.gz", lambda b: b[: len(b) // 2], "train-images-idx3-ubyte.gz: not a complete gzip file"),
        (
            "t10k-labels-idx1-ubyte.gz",
            lambda b: gzip.compress(gzip.decompress(b)[:-3]),
            "t10k-labels-idx1-ubyte.gz: 97 bytes of data",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            lambda b: gzip.compress(b"\x00\x00\x08\x01" + gzip.decompress(b)[4:]),
            "t10k-images-idx3-ubyte.gz: magic number",
        ),
    ],
)
def test_a_corrupt_file_stops_the_run_naming_it(project, file, corrupt, message):
    path = project / "raw" / file
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(MNISTValidationError, match=message):
        _run(project, "vae")
    assert not (project / "data/06_models").exists()


def test_the_published_checksums_are_checked_when_asked(project):
    with pytest.raises(MNISTValidationError, match=r"-idx\d-ubyte.gz: md5 of the decompressed content is [0-9a-f]{32}, expected"):
        _run(project, "sparse_ae", mnist={"verify_checksums": True})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sparse_ae": {"model": {"latent_activation": "relu"}}}, "latent_activation='sigmoid'"),
        ({"sparse_ae": {"data": {"layout": "chw"}}}, "layout"),
        ({"sparse_ae": {"model": {"sparsity": "l2"}}}, "sparsity"),
        ({"sparse_ae": {"training": {"batch_size": 0}}}, "batch_size"),
    ],
)
def test_bad_parameters_stop_the_run_before_any_work(project, params, message):
    with pytest.raises(ParameterValidationError, match=message):
        _run(project, "sparse_ae", **params)
    assert not (project / "data").exists()


def test_bad_noise_parameters_name_the_field(project):
    with pytest.raises(ParameterValidationError, match="factor"):
        _run(project, "denoising_ae", denoising_ae={"noise": {"kind": "masking", "factor": 1.5}})


@pytest.mark.slow
def test_several_noisy_copies_of_the_training_set_pair_with_their_clean_images(project):
    catalog = _run(project, "denoising_ae", denoising_ae={"noise": {"train_copies": 3}})
    clean, noisy = catalog.load("denoising_ae.x_train"), catalog.load("denoising_ae.noisy_x_train")
    assert noisy.shape == (3 * 270, 784)
    copies = noisy.reshape(3, 270, 784)
    assert not np.array_equal(copies[0], copies[1])  # fresh noise per copy
    # Each copy is its clean image plus noise: closer to it than to any other image.
    assert np.mean(np.abs(copies[2] - clean)) < np.mean(np.abs(copies[2] - np.roll(clean, 1, axis=0)))
