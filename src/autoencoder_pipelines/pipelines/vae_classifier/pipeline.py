"""``vae_classifier``: MNIST ingestion -> scale, split -> train VAE + classifier -> accuracy, figures."""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.mnist.nodes import score_classifications
from autoencoder_pipelines.pipelines.mnist.pipeline import (
    champion_evaluation as mnist_champion_evaluation,
)
from autoencoder_pipelines.pipelines.mnist.pipeline import model_pipeline
from autoencoder_pipelines.pipelines.vae_classifier import nodes


def create_pipeline(**kwargs) -> Pipeline:
    training = [
        node(
            nodes.train_vae_classifier,
            ["x_train", "y_train", "x_val", "y_val", "params:model", "params:training"],
            ["model", "training_history"],
            name="train_vae_classifier",
        )
    ]
    evaluation = [
        node(nodes.classify_test_set, ["model", "x_test"], ["test_latent", "test_probabilities"], name="classify_test_set"),
        node(
            nodes.evaluate_vae_classifier,
            ["test_probabilities", "y_test", "training_history", "params:training"],
            "metrics",
            name="evaluate_vae_classifier",
        ),
        node(score_classifications, ["test_probabilities", "y_test"], "test_item_scores", name="score_test_images"),
        node(nodes.plot_confusion_matrix, "metrics", "figure_confusion_matrix", name="plot_confusion_matrix"),
        node(
            nodes.plot_latent_space,
            ["test_latent", "y_test", "params:evaluation.tsne_points", "params:evaluation.seed"],
            "figure_latent_space",
            name="plot_latent_space",
        ),
    ]
    return model_pipeline("vae_classifier", training, evaluation)


def champion_evaluation() -> Pipeline:
    """The champion classifies this run"s test images (``vae_classifier_retrain``)."""
    return mnist_champion_evaluation("vae_classifier", nodes.evaluate_champion, ["x_test", "y_test"])
