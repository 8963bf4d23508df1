"""The code keeps the project's lint and format rules (ruff), so CI catches drift."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff_passes(args):
    """`ruff check` and `ruff format --check` report nothing."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it is in requirements-test.txt)")
    # --no-cache: ruff would otherwise write .ruff_cache/ into the repository
    result = subprocess.run([ruff, *args, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_query_files_take_values_only_as_bound_parameters():
    """No query file carries a Python format field or a %-placeholder: values arrive as $parameters."""
    for path in (ROOT / "queries").rglob("*.sql"):
        text = path.read_text()
        assert "{" not in text and "%s" not in text and "%(" not in text, path
