"""AI4OS's OSCAR service script, run unchanged in its logic (oscar_service.sh beside this file)
against modules installed in the test environment, as the platform runs a prediction.

The platform gives the script a JSON file of arguments and an output folder; what it uploads
back is ``OUTPUT/<input name>.json`` (the result) and ``OUTPUT/<input name>.log``. The result
gets there only when deepaas-cli printed the bare version and logged where the output went.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("oscar_service.sh")
BIN = Path(sys.executable).parent
pytest.importorskip("deepaas_corpus", reason="make test installs tests/compat/corpus")
pytestmark = pytest.mark.skipif(not (BIN / "deepaas-cli").exists(),
                                reason="deepaas-cli is not installed")
# The smallest PNG: one transparent pixel.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def _run_service(tmp_path: Path, model: str, params: dict[str, object]) -> Path:
    """Run the script as OSCAR does for one input file; answer the output folder."""
    work, output = tmp_path / "work", tmp_path / "output"
    work.mkdir()
    output.mkdir()
    event = tmp_path / "request-1.json"
    event.write_text(json.dumps(params))
    env = {**os.environ, "PATH": "%s:%s" % (BIN, os.environ.get("PATH", "")),
           "INPUT_FILE_PATH": str(event), "TMP_OUTPUT_DIR": str(output),
           "DEEPAAS_V2_MODEL": model}
    done = subprocess.run(["bash", str(SCRIPT)], cwd=work, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    version = subprocess.run([str(BIN / "deepaas-run"), "--version"], capture_output=True,
                             text=True, timeout=60).stdout.strip()
    assert done.stdout.strip() == "[*] DEEPaaS version: %s" % version
    return output


def test_a_prediction_with_plain_values_lands_where_the_platform_looks(tmp_path):
    output = _run_service(tmp_path, "demo_app", {
        "demo-str": "from oscar", "demo-int": 7, "demo-float": 0.5, "demo-bool": False,
        "demo-list-of-floats": "[1.5, 2.5]", "demo-str-choice": "choice1"})
    assert sorted(p.name for p in output.iterdir()) == ["request-1.json", "request-1.log"]
    log = (output / "request-1.log").read_text()
    assert "Traceback" not in log, log
    # The module's answer, as DEEPaaS 2.6.0 wrote it (no HTTP envelope), every value as text
    # on the command line and typed by the module's arguments.
    answer = json.loads((output / "request-1.json").read_text())
    assert answer["demo-str"] == "from oscar" and answer["demo-int"] == 7
    assert answer["demo-float"] == 0.5 and answer["demo-bool"] is False
    assert answer["demo-list-of-floats"] == [1.5, 2.5]
    assert answer["demo-str-choice"] == "choice1" and answer["demo-dict"] == {"a": 0, "b": 1}
    # the line the script cut: its fifth field was the file it moved
    line = next(x for x in log.splitlines() if "New output is" in x)
    assert line.split(" ")[4].endswith(".json") and "\x1b" not in line
    assert "return: Output is saved in %s" % line.split(" ")[4] in log


def test_a_prediction_of_an_uploaded_image_lands_where_the_platform_looks(tmp_path):
    output = _run_service(tmp_path, "zooprocess_multiple_separator", {
        "min_mask_score": 0.8, "bottom_crop": 0,
        "oscar-files": [{"key": "images", "file_format": "png",
                         "data": base64.b64encode(PIXEL).decode()}]})
    answer = json.loads((output / "request-1.json").read_text())
    assert len(answer) == 1 and answer[0]["score"] == 0.4
    # the module saw the upload under the name the script gave it, with its extension
    assert answer[0]["name"].startswith("tmp-file-") and answer[0]["name"].endswith(".png")
    assert answer[0]["image_shape"] == [len(PIXEL), 64]  # tuples became lists
