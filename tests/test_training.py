"""The trainer's per-epoch randomness: batch order and model noise derived from (seed, epoch)."""

from __future__ import annotations

import keras
import numpy as np

from autoencoder_pipelines.training.batches import EpochBatches, EpochRandomness
from autoencoder_pipelines.training.seeds import derived_seed


def _epoch_rows(batches: EpochBatches, epoch: int) -> list[int]:
    batches.set_epoch(epoch)
    return [int(v) for i in range(len(batches)) for v in batches[i][0][:, 0]]


def test_every_epoch_sees_each_sample_once_in_an_order_of_its_own():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    batches = EpochBatches((x, x, None), batch_size=4, seed=3)
    assert len(batches) == 3 and [len(batches[i][0]) for i in range(3)] == [4, 4, 2]
    assert len(batches[0]) == 2  # the absent sample weights are left out
    orders = [_epoch_rows(batches, epoch) for epoch in range(3)]
    assert all(sorted(order) == list(range(10)) for order in orders)
    assert len({tuple(order) for order in orders}) == 3
    # The same (seed, epoch) gives the same order, in another object (another process).
    assert _epoch_rows(EpochBatches((x, x), batch_size=4, seed=3), 1) == orders[1]
    assert _epoch_rows(EpochBatches((x, x), batch_size=4, seed=4), 1) != orders[1]


def test_targets_and_weights_stay_with_their_inputs():
    x = np.arange(12, dtype="float32").reshape(6, 2)
    y, w = x[:, 0] * 10, x[:, 0] + 0.5
    batches = EpochBatches((x, y, w), batch_size=4, seed=0)
    for i in range(len(batches)):
        bx, by, bw = batches[i]
        np.testing.assert_array_equal(by, bx[:, 0] * 10)
        np.testing.assert_array_equal(bw, bx[:, 0] + 0.5)


def test_the_model_noise_of_an_epoch_depends_on_seed_and_epoch_only():
    def noise(epoch: int, draws_before: int) -> np.ndarray:
        model = keras.Sequential([keras.Input((3,)), keras.layers.GaussianNoise(1.0, seed=0)])
        layer = model.layers[0]
        for _ in range(draws_before):  # what an earlier epoch (or another process) drew
            layer(np.zeros((2, 3), "float32"), training=True)
        callback = EpochRandomness(seed=5, batches=EpochBatches((np.zeros((2, 3)),), 2, seed=5))
        callback.set_model(model)
        callback.on_epoch_begin(epoch)
        return keras.ops.convert_to_numpy(layer(np.zeros((2, 3), "float32"), training=True))

    np.testing.assert_array_equal(noise(2, draws_before=0), noise(2, draws_before=7))
    assert not np.array_equal(noise(2, draws_before=0), noise(3, draws_before=0))


def test_derived_seeds_are_31_bit_and_differ_between_neighbours():
    seeds = {derived_seed(42, epoch) for epoch in range(100)}
    assert len(seeds) == 100 and all(0 <= s < 2**31 for s in seeds)
    assert derived_seed(42, 1) == derived_seed(42, 1) != derived_seed(43, 1)


def test_on_tensorflow_fit_trains_on_the_same_batches_through_tf_data():
    # EpochBatches.for_fit: a tf.data pipeline of exactly the PyDataset's batches, epoch by
    # epoch, so the faster input path trains to the very same weights.
    if keras.backend.backend() != "tensorflow":
        assert EpochBatches((np.zeros((2, 1)),), 1, seed=0).for_fit() is not None
        return
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(22, 3)).astype("float32"), rng.normal(size=(22,)).astype("float32")
    batches = EpochBatches((x, y, None), batch_size=4, seed=7)
    pipeline = batches.for_fit()
    for epoch in (0, 3):
        batches.set_epoch(epoch)
        through_tf_data = [[t.numpy() for t in batch] for batch in pipeline]
        assert len(through_tf_data) == len(batches) == 6
        for got, want in zip(through_tf_data, (batches[i] for i in range(len(batches)))):
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a, b)

    def fitted(data) -> list[np.ndarray]:
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(data, epochs=3, shuffle=False, verbose=0, callbacks=[EpochRandomness(7, batches)])
        return model.get_weights()

    for a, b in zip(fitted(batches), fitted(batches.for_fit())):
        np.testing.assert_array_equal(a, b)


def test_the_same_run_started_twice_at_once_waits_for_the_first(tmp_path):
    """Two processes training the very same run would share, and delete, one backup: the
    second waits for the first's lock."""
    import subprocess
    import sys
    import textwrap
    import time

    from filelock import FileLock

    from autoencoder_pipelines.run_lock import only_run_of

    directory = tmp_path / "backups" / "Model-abc"
    script = textwrap.dedent(f"""
        import logging, sys
        from pathlib import Path
        logging.basicConfig(level=logging.INFO, stream=sys.stdout)
        from autoencoder_pipelines.run_lock import only_run_of
        print("trying", flush=True)
        with only_run_of(Path({str(directory)!r})):
            print("entered", flush=True)
    """)
    with only_run_of(directory):
        waiting = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert waiting.stdout.readline().strip() == "trying"
        time.sleep(1.0)  # let it reach the lock
        assert waiting.poll() is None  # still waiting for this process's lock
    out = waiting.communicate(timeout=60)[0]
    assert out.index("The same run is training in another process") < out.index("entered")
    assert (tmp_path / "backups.locks" / "Model-abc.lock").exists() and not (tmp_path / "backups").exists()
    with FileLock(tmp_path / "backups.locks" / "Model-abc.lock").acquire(timeout=0):
        pass  # released by both
