"""Catalog datasets that kedro-datasets does not provide.

- ``RawFileDataset``: the bytes of a raw file, local or remote, downloaded once into a
  local cache folder; the nodes verify checksums and parse.
- ``NumpyDataset``: one array as a ``.npy`` file (no pickles), versionable.
- ``KerasModelDataset``: ``tensorflow.TensorFlowModelDataset`` that registers this
  project's Keras classes before loading, so ``safe_mode`` stays on.
- ``ChampionModelDataset``: the champion of a registered model in the MLflow registry
  (load), and the registration of a new version with its promotion decision (save).
- ``ArrivalsDataset``: kedro-datasets' ``PartitionedDataset`` of data that arrive in dated
  partitions, for which "nothing arrived yet" is an empty dict rather than an error.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import (
    AbstractDataset,
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)
from kedro_datasets.partitions import PartitionedDataset
from kedro_datasets.tensorflow import TensorFlowModelDataset

_REMOTE_PROTOCOLS = {"http", "https", "s3", "gs", "gcs", "abfs", "az", "ftp", "sftp"}


class RawFileDataset(AbstractDataset[None, bytes]):
    """Read-only bytes of one file, from any fsspec location.

    With ``cache_dir``, a remote file (``https://...``) is downloaded on the first load
    into that folder and read from there afterwards (fsspec's ``filecache``), so a
    public source is fetched once per machine.

    Example::

        cmapss_train_raw:
          type: autoencoder_pipelines.datasets.RawFileDataset
          filepath: ${oc.env:CMAPSS_DATA_DIR,https://example.org/cmapss}/train_FD001.txt
          cache_dir: data/01_raw/cmapss
    """

    def __init__(
        self,
        *,
        filepath: str,
        cache_dir: str | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, _ = get_protocol_and_path(filepath)
        self._filepath = filepath
        self._protocol = protocol
        self._cache_dir = cache_dir
        options = {**copy.deepcopy(credentials or {}), **copy.deepcopy(fs_args or {})}
        if cache_dir is not None and protocol in _REMOTE_PROTOCOLS:
            self._fs = fsspec.filesystem(
                "filecache",
                target_protocol=protocol,
                target_options=options,
                cache_storage=cache_dir,
                same_names=True,
            )
        else:
            self._fs = fsspec.filesystem(protocol, **options)
        self.metadata = metadata

    def load(self) -> bytes:
        path = self._filepath if self._protocol in _REMOTE_PROTOCOLS else get_protocol_and_path(self._filepath)[1]
        try:
            with self._fs.open(path, "rb") as stream:
                return stream.read()
        except FileNotFoundError:
            raise DatasetError(
                f"Raw file not found: {self._filepath}. Check the raw-data location "
                "(the catalog reads it from an environment variable, see the README)."
            ) from None

    def save(self, data: bytes) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only; {self._filepath} is raw input.")

    def _exists(self) -> bool:
        try:
            path = self._filepath if self._protocol in _REMOTE_PROTOCOLS else get_protocol_and_path(self._filepath)[1]
            return bool(self._fs.exists(path))
        except Exception:
            return False

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "cache_dir": self._cache_dir}


class NumpyDataset(AbstractVersionedDataset[np.ndarray, np.ndarray]):
    """One NumPy array in a ``.npy`` file, loaded with ``allow_pickle=False``.

    Example::

        rul_vae.x_train:
          type: autoencoder_pipelines.datasets.NumpyDataset
          filepath: data/05_model_input/rul_vae/x_train.npy
          versioned: true
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        options = {**copy.deepcopy(credentials or {}), **copy.deepcopy(fs_args or {})}
        if protocol == "file":
            options.setdefault("auto_mkdir", True)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **options)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def load(self) -> np.ndarray:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, "rb") as stream:
            return np.load(stream, allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray) or data.dtype == object:
            raise DatasetError(f"{type(self).__name__} saves numeric NumPy arrays, got {type(data).__name__}.")
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        # Written to a local temporary file, then copied into place: a crash never leaves a
        # truncated array under the dataset's path.
        with tempfile.TemporaryDirectory(prefix="kedro_numpy_") as tmp:
            local = Path(tmp) / "array.npy"
            np.save(local, data, allow_pickle=False)
            self._fs.put(str(local), save_path)
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))


class KerasModelDataset(TensorFlowModelDataset):
    """``TensorFlowModelDataset`` for this project's models (native ``.keras``, safe mode).

    Loading a ``.keras`` file with ``safe_mode=True`` needs the custom classes
    registered; ``models.model_classes()`` imports (and so registers) them all, so a
    model loads the same way in a pipeline, a notebook or a batch-inference job.
    """

    def load(self):
        from autoencoder_pipelines.models import model_classes  # noqa: PLC0415

        model_classes()
        return super().load()


def _input_example(example: dict | list | None):
    """A served model's example request as the JSON of ``model_metadata`` holds it: a
    ``split`` table (a DataFrame) or nested lists (an array)."""
    if example is None:
        return None
    if isinstance(example, dict):
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(example["data"], columns=example["columns"])
    import numpy as np  # noqa: PLC0415

    return np.asarray(example)


class ChampionModelDataset(AbstractDataset[dict, "RegisteredModel | None"]):
    """A registered model in the MLflow registry (``autoencoder_pipelines.registry``).

    ``load`` returns the version the alias (``champion``) names, as a
    :class:`~autoencoder_pipelines.registry.RegisteredModel`, or ``None`` while the model
    has no champion (the first retraining registers one). ``save`` takes a dict::

        {"model": keras.Model, "metadata": {...}, "tags": {...},
         "promote": bool, "champion_version": str | None,
         "input_example": {"columns": [...], "data": [[...]]} | [[...]] | None}  # optional

    registers the model as a new version and, if ``promote``, moves the alias to it,
    provided the champion is still ``champion_version`` (else ``PromotionConflict`` and
    nothing is written). The registry is the one kedro-mlflow set up from ``mlflow.yml``.

    Example::

        rul_vae_champion:
          type: autoencoder_pipelines.datasets.ChampionModelDataset
          registered_model_name: rul_vae
          lock_path: data/06_models/registry.lock
    """

    def __init__(
        self,
        *,
        registered_model_name: str,
        alias: str = "champion",
        lock_path: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._name = registered_model_name
        self._alias = alias
        self._lock_path = lock_path
        self.metadata = metadata
        self._loaded = False
        self._champion = None

    @property
    def registered_model_name(self) -> str:
        return self._name

    def load(self):
        # The first load picks the version; later loads in the same run (several nodes
        # take the champion) get that same version even if the alias has moved since.
        if not self._loaded:
            from autoencoder_pipelines.registry import load_champion  # noqa: PLC0415

            self._champion = load_champion(self._name, self._alias)
            self._loaded = True
        return self._champion

    def save(self, data: dict) -> None:
        from autoencoder_pipelines.registry import register_version  # noqa: PLC0415

        missing = {"model", "metadata", "tags", "promote", "champion_version"} - set(data)
        if missing:
            raise DatasetError(f"{type(self).__name__}({self._name}): save() needs the keys {sorted(missing)}.")
        register_version(
            data["model"],
            self._name,
            metadata=data["metadata"],
            tags=data["tags"],
            promote=bool(data["promote"]),
            expected_champion=data["champion_version"],
            alias=self._alias,
            lock_path=self._lock_path,
            input_example=_input_example(data.get("input_example")),
        )

    def _exists(self) -> bool:
        from autoencoder_pipelines.registry import champion_version  # noqa: PLC0415

        return champion_version(self._name, self._alias) is not None

    def _describe(self) -> dict[str, Any]:
        return {"registered_model_name": self._name, "alias": self._alias}


class ArrivalsDataset(PartitionedDataset):
    """Data that arrive as dated partitions, ``<path>/<date>/<file>`` (``data.arrivals``):
    ``PartitionedDataset`` (a dict of partition id -> load function), except that a folder
    with no partition, or none at all, loads as ``{}``: nothing has arrived yet.

    Example::

        cmapss_arrivals:
          type: autoencoder_pipelines.datasets.ArrivalsDataset
          path: data/01_raw/cmapss/arrivals
          dataset: autoencoder_pipelines.datasets.RawFileDataset
    """

    def load(self) -> dict:
        self._invalidate_caches()
        if not self._list_partitions():
            return {}
        return super().load()
