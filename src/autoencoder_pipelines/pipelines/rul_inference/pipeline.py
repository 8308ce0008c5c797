"""``rul_inference``: batch scoring of new engines with the champion model.

    kedro run --pipeline=rul_inference --params=engines_file=path/to/engines.txt

Two stages under the namespace ``rul_inference``: ``ingestion`` reads and checks the
engines file; ``scoring`` runs the champion (``rul_inference.champion``: the registry alias
``champion`` of ``rul_vae_<subset>``, the model ``rul_vae_retrain`` promotes), which
brings its scaler, window settings, interval calibration, out-of-distribution detector
and drift reference. The predictions (one row per engine), the batch's drift report and
the health map are versioned.
"""

from kedro.pipeline import Pipeline, node, pipeline

from autoencoder_pipelines.pipelines.common import stage
from autoencoder_pipelines.pipelines.rul_inference import nodes


def create_pipeline(**kwargs) -> Pipeline:
    ingestion = stage(
        "ingestion", [node(nodes.read_engines, ["engines_raw", "params:rul_inference"], "engines", name="read_engines")]
    )
    scoring = stage(
        "scoring",
        [
            node(nodes.score_new_engines, ["champion", "engines", "params:rul_inference"], "predictions", name="score_engines"),
            node(
                nodes.report_batch_drift,
                ["champion", "engines", "params:rul_inference"],
                "drift_report",
                name="report_batch_drift",
            ),
            node(
                nodes.plot_engines_on_health_map,
                ["predictions", "champion"],
                "figure_health_map",
                name="plot_engines_on_health_map",
            ),
        ],
    )
    return pipeline(ingestion + scoring, namespace="rul_inference", parameters={"params:rul_inference"})
