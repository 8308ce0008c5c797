"""``vq_vae``: MNIST ingestion -> scale, split -> train the VQ-VAE -> MSE, code usage, figures."""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.mnist.nodes import score_reconstructions
from autoencoder_pipelines.pipelines.mnist.pipeline import (
    champion_evaluation as mnist_champion_evaluation,
)
from autoencoder_pipelines.pipelines.mnist.pipeline import model_pipeline
from autoencoder_pipelines.pipelines.vq_vae import nodes


def create_pipeline(**kwargs) -> Pipeline:
    training = [
        node(
            nodes.train_vq_vae,
            ["x_train", "x_val", "params:model", "params:training"],
            ["model", "training_history"],
            name="train_vq_vae",
        )
    ]
    evaluation = [
        node(nodes.quantize_test_set, ["model", "x_test"], ["test_codes", "test_reconstructions"], name="quantize_test_set"),
        node(
            nodes.evaluate_vq_vae,
            [
                "test_codes",
                "test_reconstructions",
                "x_test",
                "training_history",
                "params:model.num_embeddings",
                "params:training",
            ],
            "metrics",
            name="evaluate_vq_vae",
        ),
        node(score_reconstructions, ["test_reconstructions", "x_test"], "test_item_scores", name="score_test_images"),
        node(
            nodes.plot_vq_reconstructions,
            ["test_reconstructions", "x_test"],
            "figure_reconstructions",
            name="plot_vq_reconstructions",
        ),
        node(nodes.plot_code_maps, ["test_codes", "test_reconstructions", "x_test"], "figure_code_maps", name="plot_code_maps"),
    ]
    return model_pipeline("vq_vae", training, evaluation)


def champion_evaluation() -> Pipeline:
    """The champion reconstructs this run"s test images (``vq_vae_retrain``)."""
    return mnist_champion_evaluation("vq_vae", nodes.evaluate_champion, ["x_test"])
