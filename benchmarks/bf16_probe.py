"""Training cost of the RUL encoder (BiLSTM 300, 30 steps x 5 sensors, batch 128) under a
Keras dtype policy: CPU-ms and wall-ms per window over two epochs of 20 batches of random
data, after one warm-up epoch. One policy per process; alternate them:

    for p in float32 mixed_bfloat16 float32 mixed_bfloat16; do python benchmarks/bf16_probe.py $p; done

Speed only: what bfloat16 does to accuracy is not measured here.
"""

import sys
import time

import keras
import numpy as np

policy = sys.argv[1] if len(sys.argv) > 1 else "float32"
keras.mixed_precision.set_global_policy(policy)
from autoencoder_pipelines.models import RecurrentVAE, RecurrentVAEConfig  # noqa: E402 - after the policy

model = RecurrentVAE(
    RecurrentVAEConfig(input_shape=(30, 5), lstm_units=300, regressor_units=200, mask_value=-99.0, seed=0)
)
model.compile(optimizer=keras.optimizers.Adam(1e-3))
rng = np.random.default_rng(0)
x = rng.normal(size=(128 * 20, 30, 5)).astype("float32")
y = rng.uniform(0, 125, len(x)).astype("float32")
model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm-up: tracing
cpu, wall = time.process_time(), time.perf_counter()
model.fit(x, y, batch_size=128, epochs=2, verbose=0)
windows = 2 * len(x)
print(
    f"{policy}: {(time.process_time() - cpu) / windows * 1e3:.3f} CPU-ms/window, "
    f"{(time.perf_counter() - wall) / windows * 1e3:.3f} wall-ms/window"
)
