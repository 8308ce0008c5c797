"""``rul_vae_retrain``: the ``rul_vae`` pipeline (the challenger) plus a promotion stage.

    kedro run --pipeline=rul_vae_retrain

The champion is the registry's ``champion`` version of ``rul_vae_<subset>``. Both are
scored on this run's test engines; the challenger is registered as a new version and
becomes the champion only if ``rul_vae_retrain.promotion`` says it is better.
"""

from kedro.pipeline import Pipeline, node

from autoencoder_pipelines.pipelines import rul_vae
from autoencoder_pipelines.pipelines.rul_vae_retrain import nodes
from autoencoder_pipelines.promotion import decide

DATA = "params:rul_vae.data"


def create_pipeline(**kwargs) -> Pipeline:
    promotion = Pipeline(
        [
            node(
                nodes.evaluate_champion,
                ["rul_vae_champion", "cmapss_test", "cmapss_test_rul", DATA],
                ["rul_vae_champion_metrics", "rul_vae_champion_predictions"],
                name="evaluate_champion",
            ),
            node(
                decide,
                ["rul_vae_metrics", "rul_vae_champion_metrics", "params:rul_vae_retrain.promotion"],
                "rul_vae_promotion",
                name="decide_promotion",
            ),
            node(
                nodes.package_challenger,
                [
                    "rul_vae_model",
                    "rul_vae_condition_scaler",
                    "rul_vae_train_latent",
                    "rul_vae_metrics",
                    "rul_vae_promotion",
                    DATA,
                ],
                "rul_vae_registration",
                name="register_challenger",
            ),
            node(
                nodes.plot_champion_predictions,
                ["rul_vae_champion_predictions", "rul_vae_champion_metrics"],
                "rul_vae_champion_rul_per_engine",
                name="plot_champion_predictions",
            ),
        ],
        namespace="rul_vae.promotion",
        prefix_datasets_with_namespace=False,
    )
    return rul_vae.create_pipeline() + promotion
