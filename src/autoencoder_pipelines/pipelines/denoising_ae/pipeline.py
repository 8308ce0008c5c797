"""``denoising_ae``: MNIST ingestion -> scale, split, add noise -> train noisy->clean -> evaluate."""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.denoising_ae import nodes
from autoencoder_pipelines.pipelines.mnist.nodes import score_reconstructions
from autoencoder_pipelines.pipelines.mnist.pipeline import (
    champion_evaluation as mnist_champion_evaluation,
)
from autoencoder_pipelines.pipelines.mnist.pipeline import model_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    preprocessing = [
        node(
            nodes.inject_noise,
            ["x_train", "x_val", "x_test", "params:noise"],
            ["noisy_x_train", "noisy_x_val", "noisy_x_test"],
            name="inject_noise",
        )
    ]
    training = [
        node(
            nodes.train_denoising_ae,
            ["noisy_x_train", "x_train", "noisy_x_val", "x_val", "params:model", "params:training"],
            ["model", "training_history"],
            name="train_denoising_ae",
        )
    ]
    evaluation = [
        node(nodes.denoise_test_set, ["model", "noisy_x_test"], "denoised_x_test", name="denoise_test_set"),
        node(
            nodes.evaluate_denoising,
            ["denoised_x_test", "noisy_x_test", "x_test", "training_history", "params:training"],
            "metrics",
            name="evaluate_denoising",
        ),
        node(score_reconstructions, ["denoised_x_test", "x_test"], "test_item_scores", name="score_test_images"),
        node(nodes.plot_denoising, ["denoised_x_test", "noisy_x_test", "x_test"], "figure_denoising", name="plot_denoising"),
    ]
    return model_pipeline("denoising_ae", training, evaluation, preprocessing)


def champion_evaluation() -> Pipeline:
    """The champion denoises this run's noisy test images (``denoising_ae_retrain``)."""
    return mnist_champion_evaluation("denoising_ae", nodes.evaluate_champion, ["noisy_x_test", "x_test"])
