"""Shared fixtures: the tiny hand-written extract and a warehouse built from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from phb.warehouse import build, connect

TINY = Path(__file__).parent / "fixtures" / "tiny"


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory) -> Path:
    """A warehouse built once from the tiny extract."""
    path = tmp_path_factory.mktemp("warehouse") / "tiny.duckdb"
    build(TINY, path)
    return path


@pytest.fixture
def con(tiny_warehouse):
    """A read-only connection to the tiny warehouse."""
    with connect(tiny_warehouse) as connection:
        yield connection


@pytest.fixture
def extract(tmp_path) -> Path:
    """A copy of the tiny extract that a test may change."""
    folder = tmp_path / "extract"
    shutil.copytree(TINY, folder)
    return folder
