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


def test_every_summary_table_is_built_and_read():
    """Each file in queries/build/ is built (listed in BUILD_MODELS) and each table built is read by
    a query file or by another summary table: nothing is built that nothing reads."""
    import re

    from phb.warehouse import BUILD_MODELS

    built = {p.stem for p in (ROOT / "queries" / "build").glob("*.sql")}
    assert built == set(BUILD_MODELS)
    sql = {p: p.read_text() for p in (ROOT / "queries").rglob("*.sql")}
    unread = [
        name
        for name in BUILD_MODELS
        if not any(re.search(rf"\b{name}\b", text) for path, text in sql.items() if path.stem != name)
    ]
    assert unread == []
