"""What every model of the library shares: a typed config, saving and loading."""

from __future__ import annotations

from typing import ClassVar

import keras
from pydantic import BaseModel


class ConfiguredModel(keras.Model):
    """A ``keras.Model`` built from one pydantic config, which is all ``get_config`` saves.

    Subclasses set ``config_class`` and build their sub-networks in ``__init__``.
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

    def predict_step(self, data):
        return self.finalize_prediction(super().predict_step(data))

    def finalize_prediction(self, outputs: dict) -> dict:
        """What ``predict`` (and ``predict_on_batch``) makes of the outputs of ``call``:
        unchanged here; a subclass may, e.g., keep an estimate within its labels' range.
        Training and its validation loss see ``call``'s outputs."""
        return outputs

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "config": self.config.model_dump(mode="json")}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
