"""Commands started by these tests keep their data out of the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _data_dir_of_its_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # deepaas-run's --data-dir and what modules write under deepaas.data_dir() (a training
    # run by deepaas-cli writes there) default to ./deepaas-data in the working directory.
    monkeypatch.setenv("DEEPAAS_DATA_DIR", str(tmp_path / "deepaas-data"))
