"""Training cost of a plain Keras RUL-encoder stand-in (Masking -> BiLSTM 300 -> Dense 200
-> Dense 1, 30 steps x 5 sensors, batch 128, MSE) under one set of options: CPU-ms and
wall-ms per window over two epochs of 20 batches of random data, after one warm-up epoch.
One setting per process; alternate them (issue 16: what was tried and found within noise):

    for o in '{}' '{"unroll": true}' '{}' '{"jit": true}' '{}' '{"skip": true}'; do
        python benchmarks/lstm_options_probe.py "$o"; done

Options (a JSON object): ``unroll`` (the LSTMs' ``unroll``), ``jit`` (``jit_compile``),
``skip`` (run the BiLSTM without its mask when no step of the batch is padded, through
``ops.cond``: the same result), ``mask: false`` (no Masking layer at all: not the same
model when windows are padded), ``policy`` (a Keras dtype policy).
"""

import json
import sys
import time

import keras
import numpy as np

opts = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
keras.mixed_precision.set_global_policy(opts.get("policy", "float32"))


class MaskSkippingBidirectional(keras.layers.Bidirectional):
    """Runs without the mask when every step of the batch is real."""

    def call(self, sequences, initial_state=None, mask=None, training=None):
        parent = super().call
        if mask is None:
            return parent(sequences, initial_state, None, training)
        return keras.ops.cond(
            keras.ops.all(mask),
            lambda: parent(sequences, initial_state, None, training),
            lambda: parent(sequences, initial_state, mask, training),
        )


inputs = keras.Input((30, 5))
hidden = keras.layers.Masking(-99.0)(inputs) if opts.get("mask", True) else inputs
wrapper = MaskSkippingBidirectional if opts.get("skip") else keras.layers.Bidirectional
hidden = wrapper(keras.layers.LSTM(300, unroll=opts.get("unroll", False)))(hidden)
hidden = keras.layers.Dense(200, activation="relu")(hidden)
model = keras.Model(inputs, keras.layers.Dense(1, dtype="float32")(hidden))
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=opts.get("jit", False))
rng = np.random.default_rng(0)
x = rng.normal(size=(128 * 20, 30, 5)).astype("float32")
y = rng.uniform(0, 125, (len(x), 1)).astype("float32")
model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm-up: tracing
cpu, wall = time.process_time(), time.perf_counter()
model.fit(x, y, batch_size=128, epochs=2, verbose=0)
windows = 2 * len(x)
print(
    json.dumps(opts),
    f"{(time.process_time() - cpu) / windows * 1e3:.3f} CPU-ms/window, "
    f"{(time.perf_counter() - wall) / windows * 1e3:.3f} wall-ms/window",
)
