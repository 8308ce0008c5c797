"""``af_rvae``: simulate pacemaker logs -> AF-burden series -> recurrent VAE classifier -> diagnosis map.

Costa et al., IEEE Access 2021. Stages are namespaces (kedro-viz groups); dataset and
parameter names stay as written (``prefix_datasets_with_namespace=False``).
"""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.af_rvae import nodes

SIM, SERIES = "params:af_rvae.simulation", "params:af_rvae.series"


def _stage(name: str, stage_nodes: list) -> Pipeline:
    return Pipeline(stage_nodes, namespace=f"af_rvae.{name}", prefix_datasets_with_namespace=False)


def create_pipeline(**kwargs) -> Pipeline:
    ingestion = _stage(
        "ingestion",
        [node(nodes.simulate_pacemaker_logs, SIM, ["af_patients", "af_episodes"], name="simulate_pacemaker_logs")],
    )
    preprocessing = _stage(
        "preprocessing",
        [
            node(nodes.make_burden_series, ["af_patients", "af_episodes", SIM, SERIES], "af_burden_series", name="make_burden_series"),
            node(
                nodes.split_patients,
                ["af_burden_series", "af_patients", SERIES],
                ["af_x_train", "af_y_train", "af_x_val", "af_y_val", "af_x_test", "af_y_test"],
                name="split_patients",
            ),
        ],
    )
    training = _stage(
        "training",
        [
            node(
                nodes.train_af_rvae,
                ["af_x_train", "af_y_train", "af_x_val", "af_y_val", "params:af_rvae.model", "params:af_rvae.training"],
                ["af_rvae_model", "af_rvae_training_history"],
                name="train_af_rvae",
            )
        ],
    )
    evaluation = _stage(
        "evaluation",
        [
            node(
                nodes.diagnose_test_patients,
                ["af_rvae_model", "af_x_test"],
                ["af_test_latent", "af_test_probabilities", "af_test_reconstructions"],
                name="diagnose_test_patients",
            ),
            node(nodes.evaluate_af_rvae, ["af_test_probabilities", "af_y_test", "af_rvae_training_history"], "af_rvae_metrics", name="evaluate_af_rvae"),
            node(nodes.plot_diagnosis_map, ["af_test_latent", "af_y_test", SIM], "af_rvae_diagnosis_map", name="plot_diagnosis_map"),
            node(nodes.plot_confusion_matrix, "af_rvae_metrics", "af_rvae_confusion_matrix", name="plot_confusion_matrix"),
            node(
                nodes.plot_reconstructions,
                ["af_x_test", "af_test_reconstructions", "af_y_test", SERIES],
                "af_rvae_reconstructions",
                name="plot_reconstructions",
            ),
        ],
    )
    return ingestion + preprocessing + training + evaluation
