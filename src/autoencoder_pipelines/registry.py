"""The MLflow model registry: champion models, registration and promotion.

A registered model (e.g. ``rul_vae_FD001``) has numbered versions; the alias
``champion`` names the version in service. A version is self-contained: an
``mlflow.pyfunc`` model (``serving.PYTHON_MODELS``: every task) that takes the task's raw
inputs and carries its typed settings (for ``rul_vae`` the fitted condition scaler and
the data settings). Versions registered before models were served are Keras models
logged with MLflow's Keras flavour, their settings in the version's ``metadata``; they
still load (``RegisteredModel.served`` is None), and a ``metadata`` without a served
``task`` is still registered that way.

Promotion is guarded twice: a file lock serialises registrations on one machine, and
the champion that the challenger was compared with must still be the champion when the
alias moves (otherwise :class:`PromotionConflict`): two retrainings finishing together
cannot both promote against the same old champion.

No Kedro here: :class:`autoencoder_pipelines.datasets.ChampionModelDataset` puts this
behind the catalog.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

CHAMPION = "champion"


class PromotionConflict(RuntimeError):
    """The champion changed while a challenger was being compared with it."""


@dataclass(frozen=True)
class RegisteredModel:
    """One version of a registered model: the Keras model and its metadata."""

    name: str
    version: str
    model: keras.Model
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    served: Any = None  # the mlflow.pyfunc model: what the server runs (None: a bare Keras model)

    @property
    def input_example(self):
        """The served model's example request (None for a bare Keras model)."""
        return None if self.served is None else self.served.input_example

    def predict(self, model_input):
        """The served model's answer to ``model_input``: what ``mlflow.pyfunc.load_model``
        and ``mlflow models serve`` give for this version."""
        if self.served is None:
            raise TypeError(f"{self.name} version {self.version} is a bare Keras model, not a served (pyfunc) model.")
        return self.served.predict(model_input)


def _client(tracking_uri: str | None = None, registry_uri: str | None = None):
    from mlflow import MlflowClient  # noqa: PLC0415 - mlflow is slow to import

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)


def _is_missing(error: Exception) -> bool:
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    return isinstance(error, MlflowException) and error.error_code == "RESOURCE_DOES_NOT_EXIST"


def champion_version(name: str, alias: str = CHAMPION, client=None) -> str | None:
    """The version the alias points at, or None when there is no such model or alias."""
    client = client or _client()
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except Exception as error:
        if _is_missing(error):
            return None
        raise


def load_version(name: str, version: str, client=None) -> RegisteredModel:
    """Load one version: the Keras model (safe mode), its settings and its tags, and for
    a served model the pyfunc model itself."""
    import mlflow.keras  # noqa: PLC0415
    import mlflow.pyfunc  # noqa: PLC0415
    from mlflow.models import get_model_info  # noqa: PLC0415

    from autoencoder_pipelines.models import model_classes  # noqa: PLC0415

    model_classes()  # registers the custom classes, so the model loads in safe mode
    client = client or _client()
    model_version = client.get_model_version(name, version)
    uri = f"models:/{name}/{version}"
    info = get_model_info(uri)
    if "keras" in info.flavors:
        return RegisteredModel(
            name=name,
            version=str(version),
            model=mlflow.keras.load_model(uri),
            metadata=dict(info.metadata or {}),
            tags=dict(model_version.tags),
        )
    served = mlflow.pyfunc.load_model(uri)
    python_model = served.unwrap_python_model()
    return RegisteredModel(
        name=name,
        version=str(version),
        model=python_model.model,
        metadata=python_model.settings.model_dump(mode="json", by_alias=True),
        tags=dict(model_version.tags),
        served=served,
    )


def load_champion(name: str, alias: str = CHAMPION, client=None) -> RegisteredModel | None:
    """The champion, or None when ``name`` has none yet (the first retraining)."""
    client = client or _client()
    version = champion_version(name, alias, client)
    return None if version is None else load_version(name, version, client)


def next_version(name: str, client) -> str:
    """The number the registry gives the next version of ``name``: one more than the
    highest it holds (MLflow's rule), 1 for a new model."""
    versions = [int(v.version) for v in client.search_model_versions(f"name='{name}'")]
    return str(max(versions, default=0) + 1)


@contextlib.contextmanager
def _lock(path: str | None, timeout_s: float):
    if path is None:
        yield
        return
    from filelock import FileLock  # noqa: PLC0415

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path, timeout=timeout_s):
        yield


def register_version(
    model: keras.Model,
    name: str,
    *,
    metadata: dict[str, Any],
    tags: dict[str, str],
    promote: bool,
    expected_champion: str | None,
    alias: str = CHAMPION,
    lock_path: str | None = None,
    lock_timeout_s: float = 600.0,
    input_example=None,
) -> str:
    """Log ``model`` as a new version of ``name``; move ``alias`` to it if ``promote``.

    Logs into the active MLflow run (the ``kedro run``'s), or a run of its own. A task
    with a served model (``metadata["task"]`` in ``serving.PYTHON_MODELS``) is logged
    as that pyfunc model, its settings typed and checked before anything is written and
    stamped with the name and version it is registered as; other models with the Keras
    flavour.

    Args:
        model: the trained Keras model.
        name: registered model name.
        metadata: JSON-able dict stored with the version (scaler, data settings, metrics).
        input_example: a served model's example request (a DataFrame), logged with it.
        tags: version tags (the promotion decision, the metric values).
        promote: whether the alias should move to the new version.
        expected_champion: the champion version the decision was made against (None:
            there was no champion). Checked under the lock before anything is written.
        lock_path: a lock file serialising registrations (local registries).

    Returns:
        The new version number.

    Raises:
        PromotionConflict: ``promote`` and the champion is no longer ``expected_champion``.
    """
    import mlflow  # noqa: PLC0415
    import mlflow.keras  # noqa: PLC0415

    from autoencoder_pipelines import serving  # noqa: PLC0415

    settings = serving.settings_from(metadata) if metadata.get("task") in serving.PYTHON_MODELS else None
    client = _client()
    with _lock(lock_path, lock_timeout_s):
        current = champion_version(name, alias, client)
        if promote and current != expected_champion:
            raise PromotionConflict(
                f"Registered model {name!r}: the challenger was compared with champion version "
                f"{expected_champion}, but the champion is now version {current}. Nothing was "
                "registered or promoted; run the retraining again to compare with the new champion."
            )
        run = contextlib.nullcontext() if mlflow.active_run() else mlflow.start_run(run_name=f"register {name}")
        expected = next_version(name, client)
        with run:
            if settings is not None:
                info = serving.log_model(
                    model,
                    settings.model_copy(update={"registered_model": name, "version": expected}),
                    name=name,
                    registered_model_name=name,
                    input_example=input_example,
                )
            else:
                info = mlflow.keras.log_model(
                    model,
                    name=name,
                    registered_model_name=name,
                    metadata=metadata,
                    pip_requirements=serving.pip_requirements(code_included=False),
                )
        version = str(info.registered_model_version)
        if settings is not None and version != expected:
            raise RuntimeError(
                f"Registered model {name!r}: the new version is {version}, but its served model was "
                f"stamped version {expected} (another registration got in first, outside the lock "
                f"{lock_path}); version {version} reports the wrong version: delete it and retrain."
            )
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, str(value))
        if promote:
            client.set_registered_model_alias(name, alias, version)
            logger.info("Registered %s version %s and made it the %s.", name, version, alias)
        else:
            logger.info("Registered %s version %s; the %s stays version %s.", name, version, alias, current)
    return version
