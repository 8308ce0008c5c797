"""The ``rul_vae`` pipeline: ingestion -> preprocessing -> training -> calibration -> evaluation.

One modular pipeline under the namespace ``rul_vae``: its datasets are
``rul_vae.<name>`` and its parameters ``params:rul_vae.<block>``; each stage is a
nested namespace, so kedro-viz draws ``rul_vae`` as one group with its stages inside.
Only the raw files, the arrivals and the parsed tables (``cmapss_*``) are shared.
"""

from kedro.pipeline import Pipeline, node, pipeline

from autoencoder_pipelines.pipelines.common import stage
from autoencoder_pipelines.pipelines.rul_vae import (
    calibration,
    champion,
    ingestion,
    nodes,
)

RAW = {"cmapss_train_raw", "cmapss_test_raw", "cmapss_test_rul_raw", "cmapss_arrivals"}
TABLES = {"cmapss_train", "cmapss_test", "cmapss_test_rul", "cmapss_quarantine"}  # the parsed files, shared
DATA = "params:data"


def create_pipeline(**kwargs) -> Pipeline:
    ingestion_stage = stage(
        "ingestion",
        [
            node(
                ingestion.ingest_train,
                ["cmapss_train_raw", "cmapss_arrivals", DATA, "params:arrivals"],
                ["cmapss_train", "holdout_engines", "holdout_rul", "arrivals_manifest", "cmapss_quarantine"],
                name="ingest_train",
            ),
            node(ingestion.ingest_test, ["cmapss_test_raw", DATA], "cmapss_test", name="ingest_test"),
            node(
                ingestion.ingest_test_rul, ["cmapss_test_rul_raw", "cmapss_test", DATA], "cmapss_test_rul", name="ingest_test_rul"
            ),
            node(
                ingestion.record_lineage,
                ["cmapss_test_raw", "cmapss_test_rul_raw", "arrivals_manifest", DATA],
                "lineage",
                name="record_lineage",
            ),
        ],
    )
    preprocessing = stage(
        "preprocessing",
        [
            node(
                ingestion.evaluation_engines, ["cmapss_test", "holdout_engines"], "evaluation_engines", name="evaluation_engines"
            ),
            node(ingestion.evaluation_truth, ["cmapss_test_rul", "holdout_rul"], "evaluation_truth", name="evaluation_truth"),
            node(nodes.add_rul_labels, ["cmapss_train", DATA], "train_labelled", name="add_rul_labels"),
            node(nodes.fit_condition_scaler, ["train_labelled", DATA], "condition_scaler", name="fit_condition_scaler"),
            node(nodes.scale_by_condition, ["train_labelled", "condition_scaler"], "train_scaled", name="scale_by_condition"),
            node(nodes.smooth_sensors, ["train_scaled", DATA], "train_smoothed", name="smooth_sensors"),
            node(nodes.split_engines, ["train_smoothed", DATA, "params:intervals"], "engine_split", name="split_engines"),
            node(
                nodes.make_training_windows,
                ["train_smoothed", "engine_split", DATA],
                ["x_train", "y_train", "x_val", "y_val"],
                name="make_training_windows",
            ),
            node(nodes.make_test_windows, ["evaluation_engines", "condition_scaler", DATA], "x_test", name="make_test_windows"),
        ],
    )
    training = stage(
        "training",
        [
            node(
                nodes.train_rul_vae,
                ["x_train", "y_train", "x_val", "y_val", "params:model", "params:training", DATA],
                ["trained_model", "training_history"],
                name="train_rul_vae",
            ),
            node(
                nodes.fit_rul_offset,
                ["trained_model", "x_val", "y_val", "params:rul_offset"],
                "rul_offset",
                name="fit_rul_offset",
            ),
            node(nodes.with_rul_offset, ["trained_model", "rul_offset"], "model", name="with_rul_offset"),
        ],
    )
    calibration_stage = stage(
        "calibration",
        [
            node(
                calibration.calibrate_rul_intervals,
                ["model", "train_smoothed", "engine_split", DATA, "params:intervals"],
                "interval_calibration",
                name="calibrate_rul_intervals",
            ),
            node(
                calibration.fit_ood_detector,
                ["train_smoothed", "engine_split", DATA, "params:ood"],
                "ood_detector",
                name="fit_ood_detector",
            ),
            node(
                calibration.sample_drift_reference,
                ["model", "train_smoothed", "engine_split", DATA, "params:drift"],
                "drift_reference",
                name="sample_drift_reference",
            ),
        ],
    )
    evaluation = stage(
        "evaluation",
        [
            node(
                nodes.predict_test_rul,
                [
                    "model",
                    "evaluation_engines",
                    "evaluation_truth",
                    "x_test",
                    "condition_scaler",
                    DATA,
                    "interval_calibration",
                    "ood_detector",
                ],
                "test_predictions",
                name="predict_test_rul",
            ),
            node(nodes.encode_training_windows, ["model", "x_train", "y_train"], "train_latent", name="encode_training_windows"),
            node(
                nodes.compute_rul_metrics,
                ["test_predictions", "training_history", DATA, "params:training"],
                "metrics",
                name="compute_rul_metrics",
            ),
            node(nodes.score_test_engines, "test_predictions", "test_item_scores", name="score_test_engines"),
            node(
                nodes.report_test_drift,
                ["test_predictions", "x_test", "drift_reference", "ood_detector", DATA],
                "test_drift_report",
                name="report_test_drift",
            ),
            node(nodes.plot_health_map, ["train_latent", "test_predictions", DATA], "figure_health_map", name="plot_health_map"),
            node(nodes.plot_rul_predictions, "test_predictions", "figure_rul_per_engine", name="plot_rul_predictions"),
        ],
    )
    return pipeline(
        ingestion_stage + preprocessing + training + calibration_stage + evaluation,
        namespace="rul_vae",
        inputs=RAW,
        outputs=TABLES,
    )


def champion_evaluation() -> Pipeline:
    """``rul_vae_retrain``'s part of the promotion stage: the champion scores this run's
    test engines through its own scaler and data settings; the challenger is described
    by its scaler, data settings and a sample of its health map."""
    return Pipeline(
        [
            node(
                champion.evaluate_champion,
                ["champion", "evaluation_engines", "evaluation_truth", DATA],
                ["champion_metrics", "champion_predictions"],
                name="evaluate_champion",
            ),
            node(nodes.score_test_engines, "champion_predictions", "champion_item_scores", name="score_champion_engines"),
            node(
                champion.plot_champion_predictions,
                ["champion_predictions", "champion_metrics"],
                "figure_champion_rul_per_engine",
                name="plot_champion_predictions",
            ),
            node(
                champion.describe_challenger,
                [
                    "condition_scaler",
                    "train_latent",
                    "cmapss_test",
                    DATA,
                    "interval_calibration",
                    "ood_detector",
                    "drift_reference",
                    "lineage",
                ],
                "model_metadata",
                name="describe_challenger",
            ),
        ]
    )
