"""Import contracts: the model library and the data transforms stay free of Kedro; the
model library and the trainer import without TensorFlow on another Keras backend; and
defining the pipelines loads no deep-learning stack at all."""

import importlib
import importlib.util
import os
import pkgutil
import subprocess
import sys

import autoencoder_pipelines

LIBRARY = [
    "autoencoder_pipelines.models",
    "autoencoder_pipelines.data",
    "autoencoder_pipelines.registry",  # MLflow registry logic, used by a dataset
    "autoencoder_pipelines.promotion",
    "autoencoder_pipelines.training",
    "autoencoder_pipelines.serving",
]


def test_library_packages_do_not_import_kedro():
    # One interpreter imports the packages in turn, each with its modules, and stops at the
    # first after which Kedro (or a pipeline module) is loaded: that package imports it.
    code = (
        "import sys, json, pkgutil, importlib\n"
        f"for package in {LIBRARY!r}:\n"
        "    p = importlib.import_module(package)\n"
        "    for m in pkgutil.walk_packages(getattr(p, '__path__', []), p.__name__ + '.'): importlib.import_module(m.name)\n"
        "    bad = sorted(m for m in sys.modules if m == 'kedro' or m.startswith(('kedro.', 'kedro_')) "
        "or m.startswith('autoencoder_pipelines.pipelines'))\n"
        "    if bad: print(json.dumps({package: bad})); sys.exit(1)\n"
        "print('{}')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "{}", f"imports: {result.stdout.strip()} {result.stderr[-2000:]}"


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(autoencoder_pipelines.__path__, "autoencoder_pipelines.")]
    for name in names:
        importlib.import_module(name)
    assert {"autoencoder_pipelines.pipelines.rul_vae.nodes", "autoencoder_pipelines.training"} <= set(names)


def test_every_import_inside_a_function_names_something_that_exists():
    """The imports that wait until a function runs (to keep Keras, MLflow and Ray out of light
    modules) are not run by importing the module: each must still name a module and a name
    that exist."""
    import ast
    from pathlib import Path

    missing = []
    for path in Path(autoencoder_pipelines.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("autoencoder_pipelines"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name) and importlib.util.find_spec(f"{node.module}.{alias.name}") is None:
                        missing.append(f"{path.name}:{node.lineno} {node.module}.{alias.name}")
    assert missing == []


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})


def test_the_model_library_and_the_trainer_import_without_tensorflow_on_jax():
    code = (
        "import sys, pkgutil, importlib, autoencoder_pipelines.models as p\n"
        "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'): importlib.import_module(m.name)\n"
        "import autoencoder_pipelines.training\n"
        "p.model_classes()\n"
        "import keras; assert keras.backend.backend() == 'jax', keras.backend.backend()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'tensorflow'))"
    )
    result = _run_python(code, KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_defining_the_pipelines_imports_neither_tensorflow_nor_keras_nor_matplotlib():
    code = (
        "import sys\n"
        "from autoencoder_pipelines.pipeline_registry import register_pipelines\n"
        "pipelines = register_pipelines()\n"
        "assert len(pipelines) > 16, sorted(pipelines)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'jax', 'matplotlib', 'sklearn', 'scipy'}))"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    # the deep-learning stack, and the slow-to-import plotting and scientific libraries,
    # load when a node that needs them runs
    assert result.stdout.strip() == "[]"
