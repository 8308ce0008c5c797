"""Seeds and fingerprints: what makes a run repeatable, and a backup resumable only by
the very same run."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np


def run_fingerprint(*parts) -> str:
    """A short hash of configuration and data; a backup is resumed only by the run with
    the same fingerprint (same settings, same arrays)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(str((part.shape, part.dtype)).encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and the Keras backend; optionally make the backend's ops deterministic."""
    import keras  # noqa: PLC0415 - this module is imported where Keras is not loaded yet (a Ray worker)

    keras.utils.set_random_seed(seed)
    if not deterministic:
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415 - TensorFlow only on its own backend

        tf.config.experimental.enable_op_determinism()
    elif backend == "jax":
        # JAX is deterministic on the CPU; on GPUs XLA needs this flag, read when JAX
        # starts its GPU backend (so it holds for a process that has not used one yet).
        flags = os.environ.get("XLA_FLAGS", "")
        if "--xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()
    else:
        raise NotImplementedError(
            f"deterministic=True is implemented for the tensorflow and jax Keras backends; the backend is {backend!r}."
        )


def derived_seed(*entropy: int) -> int:
    """A 31-bit seed derived from integers such as ``(seed, epoch)`` by NumPy's
    ``SeedSequence``: neighbouring inputs give unrelated seeds."""
    return int(np.random.SeedSequence(list(entropy)).generate_state(1)[0] >> 1)


def restart_seeds(seed: int, restarts: int) -> list[int]:
    """Seeds of the restarts: ``seed`` itself first, then seeds derived from ``(seed, i)``.

    Derived through NumPy's ``SeedSequence``, so the restarts of different seeds never
    share an initialisation (``seed + i`` would: seed 42's second restart would be seed 43).
    """
    return [seed] + [int(np.random.SeedSequence([seed, i]).generate_state(1)[0]) for i in range(1, restarts)]


_MEMBER = 0x6D656D62  # "memb": member seeds never coincide with restart seeds (SeedSequence([seed, i]))


def member_seeds(seed: int, members: int) -> list[int]:
    """Seeds of an ensemble's members: ``seed`` itself first (a one-member ensemble is the
    single run of that seed), then seeds derived from ``(seed, i)``, distinct from the
    restarts' (:func:`restart_seeds`)."""
    return [seed] + [int(np.random.SeedSequence([seed, _MEMBER, i]).generate_state(1)[0]) for i in range(1, members)]
