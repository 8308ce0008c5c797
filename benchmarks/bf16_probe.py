"""Training cost of the RUL encoder under a Keras dtype policy: CPU-ms and wall-ms per
window over two epochs of 20 batches of random data, after one warm-up epoch. One
policy per process; alternate them:

    # the peer benchmark's size: BiLSTM 300, 30 steps x 5 sensors, batch 128, all cores
    for p in float32 mixed_bfloat16 float32 mixed_bfloat16; do python benchmarks/bf16_probe.py $p; done
    # conf/base's member: BiLSTM 100, 14 sensors, one compute thread (as an ensemble member on Ray)
    for p in float32 mixed_bfloat16 float32 mixed_bfloat16; do
        python benchmarks/bf16_probe.py $p --units 100 --sensors 14 --threads 1; done

Speed only: what bfloat16 does to accuracy is not measured here.
"""

import argparse
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("policy", nargs="?", default="float32", choices=["float32", "mixed_bfloat16"])
parser.add_argument("--units", type=int, default=300)
parser.add_argument("--sensors", type=int, default=5)
parser.add_argument("--threads", type=int, help="compute threads (as parallel.thread_limits); default: all cores")
args = parser.parse_args()
if args.threads:
    from autoencoder_pipelines.training.workers import thread_limits

    os.environ.update(thread_limits(args.threads))  # before TensorFlow starts

import keras  # noqa: E402
import numpy as np  # noqa: E402

keras.mixed_precision.set_global_policy(args.policy)
from autoencoder_pipelines.models import RecurrentVAE, RecurrentVAEConfig  # noqa: E402 - after the policy

model = RecurrentVAE(
    RecurrentVAEConfig(input_shape=(30, args.sensors), lstm_units=args.units, regressor_units=200, mask_value=-99.0, seed=0)
)
model.compile(optimizer=keras.optimizers.Adam(1e-3))
rng = np.random.default_rng(0)
x = rng.normal(size=(128 * 20, 30, args.sensors)).astype("float32")
y = rng.uniform(0, 125, len(x)).astype("float32")
model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm-up: tracing
cpu, wall = time.process_time(), time.perf_counter()
model.fit(x, y, batch_size=128, epochs=2, verbose=0)
windows = 2 * len(x)
print(
    f"{args.policy} (BiLSTM {args.units}, {args.sensors} sensors, threads {args.threads or 'all'}): "
    f"{(time.process_time() - cpu) / windows * 1e3:.3f} CPU-ms/window, "
    f"{(time.perf_counter() - wall) / windows * 1e3:.3f} wall-ms/window"
)
