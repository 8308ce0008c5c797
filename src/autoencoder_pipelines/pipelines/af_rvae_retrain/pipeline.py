"""``af_rvae_retrain``: the ``af_rvae`` pipeline (the challenger) plus a promotion stage.

    kedro run --pipeline=af_rvae_retrain

The champion is the registry's ``champion`` version of ``af_rvae``; both classify this
run's test patients and the challenger is promoted only if ``af_rvae_retrain.promotion``
says it is better.
"""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines import af_rvae
from autoencoder_pipelines.pipelines.af_rvae_retrain import nodes
from autoencoder_pipelines.promotion import decide


def create_pipeline(**kwargs) -> Pipeline:
    promotion = Pipeline(
        [
            node(
                nodes.evaluate_champion,
                ["af_rvae_champion", "af_x_test", "af_y_test"],
                "af_rvae_champion_metrics",
                name="evaluate_champion",
            ),
            node(
                decide,
                ["af_rvae_metrics", "af_rvae_champion_metrics", "params:af_rvae_retrain.promotion"],
                "af_rvae_promotion",
                name="decide_promotion",
            ),
            node(
                nodes.package_challenger,
                [
                    "af_rvae_model",
                    "af_rvae_metrics",
                    "af_rvae_promotion",
                    "params:af_rvae.simulation",
                    "params:af_rvae.series",
                ],
                "af_rvae_registration",
                name="register_challenger",
            ),
            node(
                nodes.plot_champion_confusion_matrix,
                "af_rvae_champion_metrics",
                "af_rvae_champion_confusion_matrix",
                name="plot_champion_confusion_matrix",
            ),
        ],
        namespace="af_rvae.promotion",
        prefix_datasets_with_namespace=False,
    )
    return af_rvae.create_pipeline() + promotion
