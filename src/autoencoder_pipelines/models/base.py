"""What every model of the library shares: a typed config, saving and loading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import keras
from pydantic import BaseModel


@contextmanager
def dtype_policy(policy) -> Iterator[None]:
    """Build models under a Keras dtype policy (a name such as ``mixed_bfloat16``, or a
    policy), restoring the previous global one after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class ConfiguredModel(keras.Model):
    """A ``keras.Model`` built from one pydantic config, which, with the dtype policy it
    was built under, is all ``get_config`` saves.

    Subclasses set ``config_class`` and build their sub-networks in ``__init__``, under
    the global dtype policy: ``from_config`` rebuilds them under the saved one, so a model
    trained in ``mixed_bfloat16`` computes the same way after loading.
    """

    config_class: ClassVar[type[BaseModel]]

    def __init__(self, config: BaseModel | dict, **kwargs):
        super().__init__(**kwargs)
        self.config = config if isinstance(config, self.config_class) else self.config_class(**config)
        if getattr(self.config, "input_shape", ()) is None:
            raise ValueError(
                f"{type(self).__name__}: config.input_shape is not set; the training node fills it in "
                "from the data (config.model_copy(update={'input_shape': x.shape[1:]}))."
            )

    def predict(self, x, *args, **kwargs):
        return self.finalize_prediction(super().predict(x, *args, **kwargs))

    def predict_on_batch(self, x):
        return self.finalize_prediction(super().predict_on_batch(x))

    def finalize_prediction(self, outputs: dict) -> dict:
        """What ``predict`` and ``predict_on_batch`` make of the outputs of ``call`` (NumPy
        arrays, on every backend): unchanged here; a subclass may, e.g., keep an estimate
        within its labels' range. Training and its validation loss see ``call``'s outputs."""
        return outputs

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "config": self.config.model_dump(mode="json"),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        saved = config.pop("dtype", None)  # absent from models saved before mixed precision: built under the global policy
        with dtype_policy(keras.dtype_policies.deserialize(saved) if saved else keras.config.dtype_policy()):
            return cls(**config)
