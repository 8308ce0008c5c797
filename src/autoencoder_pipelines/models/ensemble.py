"""Several trained models of one class predicting as one: the ensemble of a training run.

The members differ only in their seed (initialisation, batch order, sampling noise). What
they predict is averaged; how far they disagree is reported beside it:

- the **predictions** (:data:`AVERAGED`: ``rul``, ``probabilities``, ``reconstruction``)
  are the members' mean, each with ``<name>_spread``, the members' standard deviation
  per item (0 for one member);
- everything else (latent means and samples, codes, logits) is the **lead member's**, the
  one with the lowest validation loss. Latent spaces of separately trained models are not
  comparable (each may be rotated or mirrored), so the health map, the diagnosis map and
  any code are drawn from one model rather than averaged. ``encode``, ``decode``,
  ``encoder``, ``decoder`` and ``config`` are the lead member's too.

Saved as one ``.keras`` file (the members' configs and weights); loads with
``safe_mode=True`` once the model classes are registered (``models.model_classes()``).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from autoencoder_pipelines.models.base import ConfiguredModel

AVERAGED = ("rul", "probabilities", "reconstruction")


@keras.saving.register_keras_serializable(package="autoencoder_pipelines")
class Ensemble(keras.Model):
    """The mean prediction of ``members`` (models of one class), with their spread.

    Args:
        members: the trained members, built, of one class.
        lead: index of the member whose latent outputs and methods the ensemble exposes
            (the training picks the lowest validation loss).
        seeds: each member's training seed, kept with the model for the record.
    """

    def __init__(self, members: list[ConfiguredModel], lead: int = 0, seeds: list[int] | None = None, **kwargs):
        super().__init__(**kwargs)
        if not members:
            raise ValueError("Ensemble: no members.")
        classes = {type(m).__name__ for m in members}
        if len(classes) > 1:
            raise ValueError(f"Ensemble: the members must be of one class; got {sorted(classes)}.")
        if not 0 <= lead < len(members):
            raise ValueError(f"Ensemble: lead={lead} is not a member index (0..{len(members) - 1}).")
        if seeds is not None and len(seeds) != len(members):
            raise ValueError(f"Ensemble: {len(seeds)} seeds for {len(members)} members.")
        self.members = list(members)
        self.lead = lead
        self.seeds = list(seeds) if seeds is not None else None
        self.built = True  # the members are built

    @property
    def lead_member(self) -> ConfiguredModel:
        return self.members[self.lead]

    @property
    def config(self):
        return self.lead_member.config

    @property
    def encoder(self):
        return self.lead_member.encoder

    @property
    def decoder(self):
        return self.lead_member.decoder

    def encode(self, x, batch_size: int = 1024):
        return self.lead_member.encode(x, batch_size=batch_size)

    def decode(self, z, batch_size: int = 1024):
        return self.lead_member.decode(z, batch_size=batch_size)

    def call(self, inputs, training=False):
        return self._combine([member(inputs, training=training) for member in self.members])

    def predict(self, x, *args, **kwargs):
        # The mean of what each member's own predict() gives (e.g. the RUL offset and kept
        # within the labels' range), and its spread.
        return self._combine([member.predict(x, *args, **kwargs) for member in self.members], np)

    def predict_on_batch(self, x):
        return self._combine([member.predict_on_batch(x) for member in self.members], np)

    def _combine(self, outputs: list[dict], xp=ops) -> dict:
        """The lead member's outputs, with the members' mean and spread of each averaged one
        (``xp``: Keras ops on tensors, NumPy on ``predict``'s arrays)."""
        combined = dict(outputs[self.lead])
        for name in AVERAGED:
            if name in combined:
                stacked = xp.stack([out[name] for out in outputs])
                combined[name] = xp.mean(stacked, axis=0)
                combined[f"{name}_spread"] = xp.std(stacked, axis=0)
        return combined

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "members": [keras.saving.serialize_keras_object(m) for m in self.members],
            "lead": self.lead,
            "seeds": self.seeds,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        members = [keras.saving.deserialize_keras_object(m) for m in config.pop("members")]
        return cls(members, **config)
