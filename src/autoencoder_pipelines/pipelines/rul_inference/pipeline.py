"""``rul_inference``: batch scoring of new engines with the champion model.

    kedro run --pipeline=rul_inference --params=engines_file=path/to/engines.txt

Two stages: ``ingestion`` reads and checks the engines file; ``scoring`` runs the champion
(registry alias ``champion`` of ``rul_vae_<subset>``), which brings its scaler and window
settings. The predictions (one row per engine) and the health map are versioned.
"""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines.rul_inference import nodes

PARAMS = "params:rul_inference"


def create_pipeline(**kwargs) -> Pipeline:
    ingestion = Pipeline(
        [node(nodes.read_engines, ["rul_inference_engines_raw", PARAMS], "rul_inference_engines", name="read_engines")],
        namespace="rul_inference.ingestion",
        prefix_datasets_with_namespace=False,
    )
    scoring = Pipeline(
        [
            node(
                nodes.score_new_engines,
                ["rul_vae_champion", "rul_inference_engines", PARAMS],
                "rul_inference_predictions",
                name="score_engines",
            ),
            node(
                nodes.plot_engines_on_health_map,
                ["rul_inference_predictions", "rul_vae_champion"],
                "rul_inference_health_map",
                name="plot_engines_on_health_map",
            ),
        ],
        namespace="rul_inference.scoring",
        prefix_datasets_with_namespace=False,
    )
    return ingestion + scoring
