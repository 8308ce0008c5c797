"""``af_inference``: batch diagnosis of new patients with the champion model.

    kedro run --pipeline=af_inference --params=episodes_file=path/to/episodes.csv

Two stages under the namespace ``af_inference``: ``ingestion`` reads the episode logs (a
CSV table: ``patient``, ``start``, ``end``, ``record_days``); ``scoring`` runs the champion
(``af_inference.champion``: the registry alias ``champion`` of ``af_rvae``, the model
``af_rvae_retrain`` promotes), whose served model checks the logs and brings its own
preprocessing. The diagnoses (one row per patient) and the diagnosis map are versioned.
"""

from kedro.pipeline import Pipeline, node, pipeline

from autoencoder_pipelines.pipelines.af_inference import nodes
from autoencoder_pipelines.pipelines.common import stage


def create_pipeline(**kwargs) -> Pipeline:
    ingestion = stage(
        "ingestion",
        [node(nodes.read_episode_logs, ["episodes_raw", "params:af_inference"], "episode_logs", name="read_episode_logs")],
    )
    scoring = stage(
        "scoring",
        [
            node(
                nodes.diagnose_patients,
                ["champion", "episode_logs", "params:af_inference"],
                "diagnoses",
                name="diagnose_patients",
            ),
            node(
                nodes.report_batch_drift,
                ["champion", "episode_logs", "params:af_inference"],
                "drift_report",
                name="report_batch_drift",
            ),
            node(
                nodes.plot_patients_on_diagnosis_map,
                ["diagnoses", "champion"],
                "figure_diagnosis_map",
                name="plot_patients_on_diagnosis_map",
            ),
        ],
    )
    return pipeline(ingestion + scoring, namespace="af_inference", parameters={"params:af_inference"})
