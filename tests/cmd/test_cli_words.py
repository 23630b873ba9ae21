"""deepaas-cli and deepaas-run say what DEEPaaS 2.6.0 said where scripts read it: the bare
version, the output file's extension and the lines that say where the result went, options
before the method, every value as text (observed on 2.6.0, see CONTRACT.md section 6)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deepaas import __version__
from tests.cmd.test_cli import CLI, cli, ok_json

RUN = Path(sys.executable).with_name("deepaas-run")
pytestmark = pytest.mark.skipif(not CLI.exists(), reason="deepaas-cli is not installed")
pytest.importorskip("compatmod", reason="make test installs tests/compat/compatmod")


@pytest.mark.parametrize("command", [CLI, RUN])
def test_version_is_the_bare_version_on_the_last_line_of_stdout(command):
    done = subprocess.run([str(command), "--version"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    last = done.stdout.strip().split("\n")[-1]
    assert last == __version__ and re.fullmatch(r"\d+\.\d+\.\d+", last.split("-")[0])


def _where(stderr: str) -> str:
    """The path a script takes: the fifth space-separated field of the 'New output is' line."""
    lines = [line for line in stderr.splitlines() if "New output is" in line]
    assert len(lines) == 1 and "\x1b" not in lines[0], stderr
    return lines[0].split(" ")[4]


@pytest.mark.parametrize(("name", "accept", "written"), [
    ("out", None, "out.json"),  # no extension: .json added
    ("out.txt", None, "out.txt.json"),  # another one: .json added after it
    ("out", "text/plain", "out.txt"),  # the extension of the accept asked for
    ("chart.data", "image/png", "chart.data.png"),
])
def test_a_result_file_named_otherwise_gets_its_extension_and_a_line_saying_so(
        tmp_path, name, accept, written):
    target = tmp_path / "o" / name
    args = ["--model-name", "compatmod", "--deepaas_method_output", str(target), "predict",
            "--repeat", "1"] + (["--accept", accept] if accept else [])
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert _where(proc.stderr) == str(tmp_path / "o" / written)
    assert "return: Output is saved in %s" % (tmp_path / "o" / written) in proc.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [written]


@pytest.mark.parametrize(("name", "accept"), [("out.json", None), ("out.png", "image/png"),
                                              ("out.bin", "*/*")])
def test_a_result_file_named_for_its_data_keeps_its_name(tmp_path, name, accept):
    target = tmp_path / name
    args = ["--model-name", "compatmod", "--deepaas_method_output", str(target), "predict",
            "--repeat", "1"] + (["--accept", accept] if accept else [])
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "New output is" not in proc.stderr and target.exists()
    assert "return: Output is saved in %s" % target in proc.stderr
    if accept != "image/png":  # JSON: the file holds what standard output says
        assert json.loads(target.read_text()) == json.loads(proc.stdout)


def test_a_training_result_goes_to_the_file_named(tmp_path):
    # as AI4OS's udocker job scripts call it: --option=value, before the method
    target = tmp_path / "train.out"
    proc = cli("--model-name", "compatmod", "--deepaas_method_output=%s" % target, "train")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(target.read_text())["status"] == "done"
    assert "New output is" not in proc.stderr
    assert "return: Output is saved in %s" % target in proc.stderr


def test_values_as_text_the_way_scripts_write_them():
    # --key=value, booleans as Python prints them, a list as a literal or a bare tuple, the
    # attribute name of an argument sent under another (data_key) name, and 2.6.0's
    # multiprocessing switch (meaningless here) before the method
    pred = ok_json(cli("--model-name", "compatmod", "--nodeepaas_with_multiprocessing",
                       "predict", "--repeat=2", "--flag", "True", "--ids", "7,8",
                       "--wire", "zz", "--ratio", "0.75"))
    assert (pred["repeat"], pred["flag"], pred["ids"], pred["wire"], pred["ratio"]) == (
        2, True, [7, 8], "zz", 0.75)
    pred = ok_json(cli("--model-name", "compatmod", "predict", "--repeat", "1",
                       "--flag", "False", "--ids", "['3']"))
    assert pred["flag"] is False and pred["ids"] == [3]


def test_the_one_json_line_of_the_merged_output_is_the_result():
    # `deepaas-cli predict ... 2>&1 | grep -Po '{.*}' > output.json`, as a public OSCAR
    # service script reads the result
    done = subprocess.run([str(CLI), "--model-name", "compatmod", "predict", "--repeat", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout
    found = re.findall(r"{.*}", done.stdout)
    assert len(found) == 1 and json.loads(found[0])["repeat"] == 1
