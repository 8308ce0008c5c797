"""Import contracts: the model library and the data transforms stay free of Kedro."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import autoencoder_pipelines


@pytest.mark.parametrize(
    "package",
    [
        "autoencoder_pipelines.models",
        "autoencoder_pipelines.data",
        "autoencoder_pipelines.registry",  # MLflow registry logic, used by a dataset
        "autoencoder_pipelines.promotion",
    ],
)
def test_library_packages_do_not_import_kedro(package):
    code = (
        f"import sys, pkgutil, importlib, {package} as p\n"
        "for m in pkgutil.walk_packages(getattr(p, '__path__', []), p.__name__ + '.'): importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'kedro' or m.startswith(('kedro.', 'kedro_')) "
        "or m.startswith('autoencoder_pipelines.pipelines'))\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{package} imports {result.stdout.strip()}"


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(autoencoder_pipelines.__path__, "autoencoder_pipelines.")]
    for name in names:
        importlib.import_module(name)
    assert "autoencoder_pipelines.pipelines.rul_vae.nodes" in names
