"""The ``rul_vae`` pipeline: ingestion -> preprocessing -> training -> evaluation.

Each stage is a namespace, so kedro-viz draws it as a collapsible group; dataset and
parameter names are left as they are (``prefix_datasets_with_namespace=False``), so
the catalog reads plainly.
"""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.rul_vae import nodes

DATA = "params:rul_vae.data"


def _stage(name: str, stage_nodes: list) -> Pipeline:
    return Pipeline(stage_nodes, namespace=f"rul_vae.{name}", prefix_datasets_with_namespace=False)


def create_pipeline(**kwargs) -> Pipeline:
    ingestion = _stage(
        "ingestion",
        [
            node(nodes.ingest_train, ["cmapss_train_raw", DATA], "cmapss_train", name="ingest_train"),
            node(nodes.ingest_test, ["cmapss_test_raw", DATA], "cmapss_test", name="ingest_test"),
            node(
                nodes.ingest_test_rul,
                ["cmapss_test_rul_raw", "cmapss_test", DATA],
                "cmapss_test_rul",
                name="ingest_test_rul",
            ),
        ],
    )
    preprocessing = _stage(
        "preprocessing",
        [
            node(nodes.add_rul_labels, ["cmapss_train", DATA], "rul_vae_train_labelled", name="add_rul_labels"),
            node(
                nodes.fit_condition_scaler,
                ["rul_vae_train_labelled", DATA],
                "rul_vae_condition_scaler",
                name="fit_condition_scaler",
            ),
            node(
                nodes.scale_by_condition,
                ["rul_vae_train_labelled", "cmapss_test", "rul_vae_condition_scaler"],
                ["rul_vae_train_scaled", "rul_vae_test_scaled"],
                name="scale_by_condition",
            ),
            node(
                nodes.smooth_sensors,
                ["rul_vae_train_scaled", "rul_vae_test_scaled", DATA],
                ["rul_vae_train_smoothed", "rul_vae_test_smoothed"],
                name="smooth_sensors",
            ),
            node(nodes.split_engines, ["rul_vae_train_smoothed", DATA], "rul_vae_engine_split", name="split_engines"),
            node(
                nodes.make_training_windows,
                ["rul_vae_train_smoothed", "rul_vae_engine_split", DATA],
                ["rul_vae_x_train", "rul_vae_y_train", "rul_vae_x_val", "rul_vae_y_val"],
                name="make_training_windows",
            ),
            node(
                nodes.make_test_windows,
                ["rul_vae_test_smoothed", "cmapss_test_rul", DATA],
                ["rul_vae_x_test", "rul_vae_test_truth"],
                name="make_test_windows",
            ),
        ],
    )
    training = _stage(
        "training",
        [
            node(
                nodes.train_rul_vae,
                [
                    "rul_vae_x_train",
                    "rul_vae_y_train",
                    "rul_vae_x_val",
                    "rul_vae_y_val",
                    "params:rul_vae.model",
                    "params:rul_vae.training",
                    DATA,
                ],
                ["rul_vae_model", "rul_vae_training_history"],
                name="train_rul_vae",
            ),
        ],
    )
    evaluation = _stage(
        "evaluation",
        [
            node(
                nodes.predict_test_rul,
                ["rul_vae_model", "rul_vae_x_test", "rul_vae_test_truth", DATA],
                "rul_vae_test_predictions",
                name="predict_test_rul",
            ),
            node(
                nodes.encode_training_windows,
                ["rul_vae_model", "rul_vae_x_train", "rul_vae_y_train"],
                "rul_vae_train_latent",
                name="encode_training_windows",
            ),
            node(
                nodes.compute_rul_metrics,
                ["rul_vae_test_predictions", "rul_vae_training_history"],
                "rul_vae_metrics",
                name="compute_rul_metrics",
            ),
            node(
                nodes.plot_health_map,
                ["rul_vae_train_latent", "rul_vae_test_predictions", DATA],
                "rul_vae_health_map",
                name="plot_health_map",
            ),
            node(
                nodes.plot_rul_predictions,
                "rul_vae_test_predictions",
                "rul_vae_rul_per_engine",
                name="plot_rul_predictions",
            ),
        ],
    )
    return ingestion + preprocessing + training + evaluation
