"""``af_rvae``: simulate pacemaker logs -> AF-burden series -> recurrent VAE classifier -> diagnosis map.

Costa et al., IEEE Access 2021. One modular pipeline under the namespace ``af_rvae``
(datasets ``af_rvae.<name>``, parameters ``params:af_rvae.<block>``), its stages nested
namespaces that kedro-viz draws as groups.
"""

from kedro.pipeline import Pipeline, node, pipeline

from autoencoder_pipelines.pipelines.af_rvae import arrivals, calibration, champion, nodes
from autoencoder_pipelines.pipelines.common import stage

SIM, SERIES = "params:simulation", "params:series"


def create_pipeline(**kwargs) -> Pipeline:
    ingestion = stage(
        "ingestion",
        [
            node(nodes.simulate_pacemaker_logs, SIM, ["patients", "episodes"], name="simulate_pacemaker_logs"),
            node(
                arrivals.take_arrivals,
                ["af_arrivals", SIM, SERIES, "params:arrivals"],
                ["arrived_patients", "arrived_series", "arrivals_manifest", "af_quarantine"],
                name="take_arrivals",
            ),
            node(arrivals.record_lineage, [SIM, "arrivals_manifest"], "lineage", name="record_lineage"),
        ],
    )
    preprocessing = stage(
        "preprocessing",
        [
            node(nodes.make_burden_series, ["patients", "episodes", SIM, SERIES], "burden_series", name="make_burden_series"),
            node(
                nodes.split_patients,
                ["burden_series", "patients", SERIES, "arrived_series", "arrived_patients"],
                ["x_train", "y_train", "x_val", "y_val", "x_test", "y_test"],
                name="split_patients",
            ),
        ],
    )
    training = stage(
        "training",
        [
            node(
                nodes.train_af_rvae,
                ["x_train", "y_train", "x_val", "y_val", "params:model", "params:training"],
                ["model", "training_history"],
                name="train_af_rvae",
            )
        ],
    )
    calibration_stage = stage(
        "calibration",
        [
            node(
                calibration.calibrate_probabilities,
                ["model", "x_val", "y_val"],
                "probability_calibration",
                name="calibrate_probabilities",
            ),
            node(calibration.fit_ood_detector, ["model", "x_val", "params:ood"], "ood_detector", name="fit_ood_detector"),
            node(
                calibration.sample_drift_reference,
                ["x_train", "y_train", "params:drift", SERIES],
                "drift_reference",
                name="sample_drift_reference",
            ),
        ],
    )
    evaluation = stage(
        "evaluation",
        [
            node(
                nodes.diagnose_test_patients,
                ["model", "x_test", "probability_calibration", "ood_detector"],
                [
                    "test_latent",
                    "test_probabilities",
                    "test_raw_probabilities",
                    "test_probability_spread",
                    "test_reconstructions",
                    "test_ood_scores",
                ],
                name="diagnose_test_patients",
            ),
            node(
                nodes.evaluate_af_rvae,
                [
                    "test_probabilities",
                    "test_raw_probabilities",
                    "test_probability_spread",
                    "test_ood_scores",
                    "y_test",
                    "training_history",
                    "ood_detector",
                    "params:training",
                ],
                "metrics",
                name="evaluate_af_rvae",
            ),
            node(nodes.score_test_patients, ["test_probabilities", "y_test"], "test_item_scores", name="score_test_patients"),
            node(
                nodes.plot_reliability_diagram,
                ["test_raw_probabilities", "test_probabilities", "y_test"],
                "figure_reliability_diagram",
                name="plot_reliability_diagram",
            ),
            node(
                nodes.report_test_drift,
                ["x_test", "test_probabilities", "test_ood_scores", "drift_reference", "ood_detector"],
                "test_drift_report",
                name="report_test_drift",
            ),
            node(nodes.plot_diagnosis_map, ["test_latent", "y_test", SIM], "figure_diagnosis_map", name="plot_diagnosis_map"),
            node(nodes.plot_confusion_matrix, "metrics", "figure_confusion_matrix", name="plot_confusion_matrix"),
            node(
                nodes.evaluate_baseline,
                ["x_train", "y_train", "x_test", "y_test", "params:baseline"],
                "baseline_metrics",
                name="evaluate_baseline",
            ),
            node(
                nodes.plot_reconstructions,
                ["x_test", "test_reconstructions", "y_test", SERIES],
                "figure_reconstructions",
                name="plot_reconstructions",
            ),
        ],
    )
    return pipeline(
        ingestion + preprocessing + training + calibration_stage + evaluation,
        namespace="af_rvae",
        inputs={"af_arrivals"},
        outputs={"af_quarantine"},
    )


def champion_evaluation() -> Pipeline:
    """``af_rvae_retrain``'s part of the promotion stage: the champion classifies this
    run's test patients; the challenger is described by its simulation and series settings."""
    return Pipeline(
        [
            node(
                champion.evaluate_champion,
                ["champion", "x_test", "y_test"],
                ["champion_metrics", "champion_item_scores"],
                name="evaluate_champion",
            ),
            node(
                champion.plot_champion_confusion_matrix,
                "champion_metrics",
                "figure_champion_confusion_matrix",
                name="plot_champion_confusion_matrix",
            ),
            node(
                champion.describe_challenger,
                [SIM, SERIES, "patients", "episodes", "probability_calibration", "ood_detector", "drift_reference", "lineage"],
                "model_metadata",
                name="describe_challenger",
            ),
        ]
    )
