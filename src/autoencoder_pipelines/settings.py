"""Project settings. https://docs.kedro.org/en/stable/kedro_project_setup/settings.html"""

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # `oc.env` is only registered for credentials by default; the catalog uses it to
    # point the raw-data location at a local folder (e.g. CMAPSS_DATA_DIR).
    "custom_resolvers": {"oc.env": oc.env},
    # An environment (conf/test, conf/local) overrides single parameters, not whole blocks.
    "merge_strategy": {"parameters": "soft"},
}
