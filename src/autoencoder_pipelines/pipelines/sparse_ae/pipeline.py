"""``sparse_ae``: MNIST ingestion -> scale, split -> train with a sparsity penalty -> evaluate."""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.mnist.nodes import score_reconstructions
from autoencoder_pipelines.pipelines.mnist.pipeline import (
    champion_evaluation as mnist_champion_evaluation,
)
from autoencoder_pipelines.pipelines.mnist.pipeline import model_pipeline
from autoencoder_pipelines.pipelines.sparse_ae import nodes


def create_pipeline(**kwargs) -> Pipeline:
    training = [
        node(
            nodes.train_sparse_ae,
            ["x_train", "x_val", "params:model", "params:training"],
            ["model", "training_history"],
            name="train_sparse_ae",
        )
    ]
    evaluation = [
        node(nodes.encode_test_set, ["model", "x_test"], ["test_codes", "test_reconstructions"], name="encode_test_set"),
        node(
            nodes.evaluate_sparse_ae,
            [
                "test_codes",
                "test_reconstructions",
                "x_test",
                "training_history",
                "params:evaluation.activity_threshold",
                "params:training",
            ],
            "metrics",
            name="evaluate_sparse_ae",
        ),
        node(score_reconstructions, ["test_reconstructions", "x_test"], "test_item_scores", name="score_test_images"),
        node(
            nodes.plot_sparse_reconstructions,
            ["test_reconstructions", "x_test"],
            "figure_reconstructions",
            name="plot_sparse_reconstructions",
        ),
        node(
            nodes.plot_code_activity,
            ["test_codes", "params:evaluation.activity_threshold"],
            "figure_code_activity",
            name="plot_code_activity",
        ),
    ]
    return model_pipeline("sparse_ae", training, evaluation)


def champion_evaluation() -> Pipeline:
    """The champion reconstructs this run's test images (``sparse_ae_retrain``)."""
    return mnist_champion_evaluation("sparse_ae", nodes.evaluate_champion, ["x_test", "params:evaluation.activity_threshold"])
