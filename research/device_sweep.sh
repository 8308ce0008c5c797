#!/usr/bin/env bash
# One call on a lent GPU machine (Keras on JAX: TensorFlow is not installed there and its
# wheels are too large to carry). Needs, in ignored folders of the repo:
#   .whl/    keras, namex, optree, pydantic, pydantic-core, annotated-types,
#            typing-inspection, typing-extensions wheels for CPython 3.12 (manylinux x86_64)
#   .sweep/fd001.npz   from `python research/rul_vae_sweep.py prepare --out .sweep/fd001.npz`
# Usage there: bash benchmarks/device_sweep.sh OUTDIR BUDGET_S RECIPE...
set -uo pipefail
out=$1; budget=$2; shift 2
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)"
# af_rvae model throughput, alone on the GPU: the study's size (300) and conf/base's (64)
python3 benchmarks/af_rvae_throughput.py --lstm-units 300 64 --series 8192 --batch-size 256 --epochs 2 \
    --json "$out/af_rvae_throughput_jax_gpu.json" 2>&1 | grep -v "^WARNING\|^I0000\|^W0000"
# rul_vae recipes x seeds 42 43 44, every process at once on the one GPU
python3 research/rul_vae_sweep.py run --data .sweep/fd001.npz --out "$out/rul_vae_sweep.jsonl" \
    --recipes "$@" --seeds 42 43 44 --jobs 16 --budget-s "$budget" 2>&1 | grep -v "^WARNING\|^I0000\|^W0000"
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
