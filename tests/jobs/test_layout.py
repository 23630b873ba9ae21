"""A training's folder: where its log, outputs, uploads and record live."""

from __future__ import annotations

import datetime

from deepaas.jobs.folders import JobFolders, record_text
from deepaas.jobs.layout import JobLayout
from deepaas.jobs.records import Job
from deepaas.model.wrapper import UploadedFile


def test_every_file_of_a_training_is_in_its_folder_under_the_data_dir(tmp_path):
    layout = JobLayout.under(tmp_path)
    layout.make("abc")
    folder = tmp_path / "jobs" / "abc"
    assert layout.folder("abc") == folder
    assert layout.log("abc").is_file() and layout.log("abc").read_bytes() == b""
    assert layout.output("abc").is_dir() and not any(layout.output("abc").iterdir())
    assert {layout.uploads("abc"), layout.record("abc"), layout.metrics("abc")} <= {
        folder / name for name in ("uploads", "record.json", "metrics.jsonl")}


def test_the_records_are_written_where_the_layout_says(tmp_path):
    layout = JobLayout.under(tmp_path)
    layout.make("abc")
    job = Job(uuid="abc", model="m", args={}, date=datetime.datetime.now())
    assert JobFolders(layout.root).write("abc", record_text(job))
    assert list(layout.records()) == [layout.record("abc")]


def test_uploads_move_into_the_folder_and_the_unnamed_ones_are_removed(tmp_path):
    layout = JobLayout.under(tmp_path)
    layout.make("abc")
    named, stray = tmp_path / "upload-1", tmp_path / "upload-2"
    named.write_text("data")
    stray.write_text("left over")
    given = UploadedFile(name="data", filename=str(named), content_type="text/plain",
                         original_filename="data.txt")
    adopted = layout.adopt_uploads("abc", {"data": given, "n": 1}, {str(named), str(stray)})
    moved = layout.uploads("abc") / "data-upload-1"
    assert adopted == {"data": given._replace(filename=str(moved)), "n": 1}
    assert moved.read_text() == "data" and not named.exists() and not stray.exists()
    layout.remove_uploads("abc")
    assert not layout.uploads("abc").exists() and layout.log("abc").exists()
