"""Project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

import warnings

from autoencoder_pipelines import quiet_startup

# TensorFlow's C++ start-up messages (no CUDA driver, cuInit failures) are not the
# user's business on a CPU run: the terminal shows Kedro's and Keras's output.
# TF_CPP_MIN_LOG_LEVEL=0 shows everything. Before any node loads TensorFlow.
quiet_startup.install()
# Kedro and kedro-mlflow call OmegaConf's deprecated resolver API: five warnings a run
# that no user of this project can act on.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated", category=UserWarning)

from kedro.config import OmegaConfigLoader  # noqa: E402 - after quiet_startup.install()
from omegaconf.resolvers import oc  # noqa: E402

from autoencoder_pipelines.hooks import MlflowOutputsHook, RunVersionsHook  # noqa: E402

# kedro-mlflow's own hook (registered by the plugin) opens an MLflow run per `kedro run`
# and logs the parameters; these log the outputs the catalog marks and keep a run's
# versioned datasets its own.
HOOKS = (RunVersionsHook(), MlflowOutputsHook())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # `oc.env` is only registered for credentials by default; the catalog uses it to
    # point the raw-data location at a local folder (e.g. CMAPSS_DATA_DIR).
    "custom_resolvers": {"oc.env": oc.env},
    # An environment (conf/test, conf/local) overrides single parameters, not whole blocks.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft", "airflow": "soft"},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        "airflow": ["airflow*", "airflow/**"],
    },
}
