"""What a training leaves in its output dir: listed and found without leaving the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepaas.exceptions import OutputNotFound
from deepaas.jobs.outputs import find_file, list_files


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    """An output dir with files, and links a training could make to what lies outside."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not an output")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "inner.txt").write_text("not one either")
    folder = tmp_path / "output"
    (folder / "plots").mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"w" * 10)
    (folder / "plots" / "loss.csv").write_text("a,b\n")
    os.symlink(secret, folder / "shadow")
    os.symlink(tmp_path / "elsewhere", folder / "linked-folder")
    os.symlink(folder / "model.bin", folder / "plots" / "same-model.bin")
    os.symlink(folder / "missing", folder / "dangling")
    return folder


def test_links_are_not_listed(outputs: Path) -> None:
    assert list_files(outputs) == [{"name": "model.bin", "size": 10},
                                   {"name": "plots/loss.csv", "size": 4}]


def test_links_out_of_the_folder_are_never_found(outputs: Path) -> None:
    for name in ("shadow", "linked-folder/inner.txt", "dangling", "../secret.txt"):
        with pytest.raises(OutputNotFound):
            find_file(outputs, name)
    # a link that stays inside leads to an output the listing shows anyway
    assert find_file(outputs, "plots/same-model.bin") == (outputs / "model.bin").resolve()


@pytest.mark.parametrize("name", ["x\x00", "y" * 5000, "plots/" + "z" * 300 + "/a"])
def test_a_name_that_cannot_be_a_file_is_not_found(outputs: Path, name: str) -> None:
    with pytest.raises(OutputNotFound) as caught:
        find_file(outputs, name)
    assert str(outputs.parent) not in caught.value.message
    assert len(caught.value.message) < 300
