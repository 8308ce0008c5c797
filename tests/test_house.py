"""What the README and the layout promise: the README's commands are what CI runs, it
carries nothing that goes stale, every module stays small enough to read in one sitting,
and the environments the documented commands use are in the repository."""

from __future__ import annotations

import re
from pathlib import Path

from kedro.config import OmegaConfigLoader

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_the_readme_test_command_is_what_ci_runs():
    test_command = next(line for block in _bash_blocks(README) for line in block.splitlines() if "pytest" in line)
    ci = [
        line
        for line in (REPO / ".ci/run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd ", "export "))
    ]
    assert ci == [test_command]


def test_the_readme_is_short_and_holds_no_dates_timings_or_commit_hashes():
    assert len(README.splitlines()) <= 150
    assert re.findall(r"\b20\d\d-\d\d-\d\d\b", README) == []
    assert re.findall(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b", README) == []
    assert re.findall(r"\b\d+(\.\d+)? ?(s|min|minutes|seconds)\b", README) == []


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(REPO)): n for p in (REPO / "src").rglob("*.py") if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}


def test_the_replay_environment_is_in_the_repository():
    """``deploy/replay.py`` runs ``kedro run --env=replay``: its parameters must be committed."""
    assert "--env=replay" in (REPO / "deploy/replay.py").read_text()
    from autoencoder_pipelines.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(REPO / "conf"), env="replay", **CONFIG_LOADER_ARGS)
    parameters = loader["parameters"]
    rul_vae = parameters["rul_vae"]
    assert rul_vae["training"]["ensemble"]["members"] == 2 and rul_vae["arrivals"]["include_source"] is False
