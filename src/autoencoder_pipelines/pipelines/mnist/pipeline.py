"""``mnist``: ingestion of the four MNIST files, and the builder of the six MNIST pipelines.

``kedro run --pipeline=mnist`` reads and validates the files. Each model pipeline is
``ingestion`` (shared; the same nodes and datasets for all six) plus its own
``preprocessing``, ``training`` and ``evaluation`` stages under the model's namespace,
so the model's datasets and parameters are ``<model>.x_train``, ``params:<model>.data``
and so on, and kedro-viz draws each model as one group with its stages inside. The
preprocessing every model shares (scale, split) is here; a model's own steps (the noise
injection of ``denoising_ae``) are in its own package.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from autoencoder_pipelines.pipelines.common import stage
from autoencoder_pipelines.pipelines.mnist import nodes

INGESTED = {"mnist_train_images", "mnist_train_labels", "mnist_test_images", "mnist_test_labels"}


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.ingest_training_set,
                ["mnist_train_images_raw", "mnist_train_labels_raw", "params:mnist"],
                ["mnist_train_images", "mnist_train_labels"],
                name="ingest_training_set",
            ),
            node(
                nodes.ingest_test_set,
                ["mnist_test_images_raw", "mnist_test_labels_raw", "params:mnist"],
                ["mnist_test_images", "mnist_test_labels"],
                name="ingest_test_set",
            ),
        ],
        namespace="mnist.ingestion",
        prefix_datasets_with_namespace=False,
    )


def shared_preprocessing() -> list:
    """Scale to [0, 1] and split: ``x_/y_{train,val,test}``."""
    return [
        node(
            nodes.split_training_set,
            ["mnist_train_images", "mnist_train_labels", "params:data"],
            ["x_train", "y_train", "x_val", "y_val"],
            name="split_training_set",
        ),
        node(
            nodes.scale_test_set,
            ["mnist_test_images", "mnist_test_labels", "params:data"],
            ["x_test", "y_test"],
            name="scale_test_set",
        ),
    ]


def model_pipeline(name: str, training: list, evaluation: list, preprocessing: list = ()) -> Pipeline:
    """``mnist`` ingestion + the model's stages, namespaced ``name``.

    Args:
        name: the model's pipeline (and namespace).
        training, evaluation: the model's nodes of those stages.
        preprocessing: the model's own preprocessing nodes, after the shared ones.
    """
    stages = (
        stage("preprocessing", [*shared_preprocessing(), *preprocessing])
        + stage("training", training)
        + stage("evaluation", evaluation)
    )
    return create_pipeline() + pipeline(stages, namespace=name, inputs=INGESTED)


def champion_evaluation(task: str, evaluate_champion, inputs: list[str]) -> Pipeline:
    """The MNIST task ``task``'s part of the promotion stage: ``evaluate_champion(champion,
    *inputs)`` gives ``champion_metrics`` and ``champion_item_scores``; the model's description is its task, data
    settings and an example request (``serving.MNISTSettings``)."""
    return Pipeline(
        [
            node(
                evaluate_champion, ["champion", *inputs], ["champion_metrics", "champion_item_scores"], name="evaluate_champion"
            ),
            node(nodes.model_describer(task), ["params:data", "mnist_test_images"], "model_metadata", name="describe_challenger"),
        ]
    )
