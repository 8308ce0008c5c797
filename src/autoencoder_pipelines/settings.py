"""Project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

import os

# TensorFlow's C++ start-up messages (no CUDA driver, CPU instruction sets, cuInit
# failures) are not the user's business on a CPU run: keep the terminal to Kedro's and
# Keras's output. Python-level errors still surface; export TF_CPP_MIN_LOG_LEVEL=0 to
# see everything. Set here, before any node imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from autoencoder_pipelines.hooks import MlflowOutputsHook, RunVersionsHook

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
