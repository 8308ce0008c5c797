"""``vae``: MNIST ingestion -> scale, split -> train the VAE -> ELBO, IWAE, latent figures."""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.mnist.pipeline import (
    champion_evaluation as mnist_champion_evaluation,
)
from autoencoder_pipelines.pipelines.mnist.pipeline import model_pipeline
from autoencoder_pipelines.pipelines.vae import nodes


def create_pipeline(**kwargs) -> Pipeline:
    training = [
        node(
            nodes.train_vae,
            ["x_train", "x_val", "params:model", "params:training"],
            ["model", "training_history"],
            name="train_vae",
        )
    ]
    evaluation = [
        node(nodes.encode_test_set, ["model", "x_test"], "test_latent", name="encode_test_set"),
        node(
            nodes.evaluate_vae,
            [
                "model",
                "x_test",
                "training_history",
                "params:evaluation.iwae_samples",
                "params:evaluation.seed",
                "params:training",
            ],
            ["metrics", "test_item_scores"],
            name="evaluate_vae",
        ),
        node(nodes.plot_vae_reconstructions, ["model", "x_test"], "figure_reconstructions", name="plot_vae_reconstructions"),
        node(nodes.plot_latent_space, ["test_latent", "y_test"], "figure_latent_space", name="plot_latent_space"),
        node(nodes.plot_latent_grid, ["model", "params:evaluation.grid_size"], "figure_latent_grid", name="plot_latent_grid"),
    ]
    return model_pipeline("vae", training, evaluation)


def champion_evaluation() -> Pipeline:
    """The champion"s test -ELBO on this run"s test images (``vae_retrain``)."""
    return mnist_champion_evaluation(
        "vae", nodes.evaluate_champion, ["x_test", "params:evaluation.iwae_samples", "params:evaluation.seed"]
    )
