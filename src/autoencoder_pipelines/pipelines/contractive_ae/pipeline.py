"""``contractive_ae``: MNIST ingestion -> scale, split -> train contractive and plain AEs -> compare."""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.contractive_ae import nodes
from autoencoder_pipelines.pipelines.mnist.pipeline import (
    champion_evaluation as mnist_champion_evaluation,
)
from autoencoder_pipelines.pipelines.mnist.pipeline import model_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    training = [
        node(
            nodes.train_contractive_ae,
            ["x_train", "x_val", "params:model", "params:training"],
            ["model", "training_history"],
            name="train_contractive_ae",
        ),
        node(
            nodes.train_plain_ae,
            ["x_train", "x_val", "params:model", "params:training"],
            ["plain_model", "plain_training_history"],
            name="train_plain_ae",
        ),
    ]
    evaluation = [
        node(
            nodes.evaluate_contractive_ae,
            ["model", "plain_model", "x_test", "training_history", "plain_training_history", "params:training"],
            "metrics",
            name="evaluate_contractive_ae",
        ),
        node(nodes.score_test_images, ["model", "x_test"], "test_item_scores", name="score_test_images"),
        node(
            nodes.plot_contractive_reconstructions,
            ["model", "plain_model", "x_test"],
            "figure_reconstructions",
            name="plot_contractive_reconstructions",
        ),
    ]
    return model_pipeline("contractive_ae", training, evaluation)


def champion_evaluation() -> Pipeline:
    """The champion (a contractive model) on this run's test images (``contractive_ae_retrain``)."""
    return mnist_champion_evaluation("contractive_ae", nodes.evaluate_champion, ["x_test"])
