"""``mnist``: ingestion of the four MNIST files, and the builder of the six MNIST pipelines.

``kedro run --pipeline=mnist`` reads and validates the files. Each model pipeline is
``ingestion`` (shared; the same nodes and datasets for all six) plus its own
``preprocessing``, ``training`` and ``evaluation`` stages under the model's namespace,
so the model's datasets and parameters are ``<model>.x_train``, ``params:<model>.data``
and so on, and kedro-viz draws each stage as a group.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

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


def preprocessing_nodes(noise: bool = False) -> list:
    """Scale and split (and, for denoising, corrupt): ``x_/y_{train,val,test}`` (+ ``noisy_x_*``)."""
    steps = [
        node(
            nodes.split_training_set,
            ["mnist_train_images", "mnist_train_labels", "params:data"],
            ["x_train", "y_train", "x_val", "y_val"],
            name="split_training_set",
        ),
        node(nodes.scale_test_set, ["mnist_test_images", "mnist_test_labels", "params:data"], ["x_test", "y_test"], name="scale_test_set"),
    ]
    if noise:
        steps.append(
            node(
                nodes.inject_noise,
                ["x_train", "x_val", "x_test", "params:noise"],
                ["noisy_x_train", "noisy_x_val", "noisy_x_test"],
                name="inject_noise",
            )
        )
    return steps


def model_pipeline(name: str, training: list, evaluation: list, noise: bool = False) -> Pipeline:
    """``mnist`` ingestion + the model's preprocessing, training and evaluation stages,
    namespaced ``name``."""

    def stage(stage_name: str, stage_nodes: list) -> Pipeline:
        return Pipeline(stage_nodes, namespace=stage_name, prefix_datasets_with_namespace=False)

    stages = stage("preprocessing", preprocessing_nodes(noise)) + stage("training", training) + stage("evaluation", evaluation)
    return create_pipeline() + Pipeline(stages, namespace=name, inputs=INGESTED)
