"""Progress reports from a training, for the job record and whoever watches it.

Call it from ``train()`` (or any code it runs, in any thread)::

    from deepaas import progress

    for epoch in range(epochs):
        loss, accuracy = fit_one_epoch()
        progress.report(step=epoch + 1, total=epochs, loss=loss, accuracy=accuracy)

Inside a training started by deepaas, each report is sent to the server, which keeps the latest
values as the job's ``progress`` and the whole series as its ``metrics`` (``GET
/v2/models/NAME/train/UUID``), so a client can plot a loss curve. Anywhere else (a unit test, a
notebook, ``predict``) ``report`` does nothing and costs almost nothing.

Metric values should be numbers (numpy scalars are fine) or short strings.

What a training produces for people to take away (weights, plots, reports) goes in
:func:`output_dir`: the server lists those files in the job record and serves them, or uploads
them to the storage named by ``--output-storage`` when the training ends.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

__all__ = ["report", "output_dir", "ENV_FD", "ENV_JOB_ID", "ENV_OUTPUT_DIR"]

#: The environment variable that carries the report channel's file descriptor.
ENV_FD = "DEEPAAS_PROGRESS_FD"
#: The uuid of the training this process runs.
ENV_JOB_ID = "DEEPAAS_JOB_ID"
#: The folder of this training's outputs.
ENV_OUTPUT_DIR = "DEEPAAS_OUTPUT_DIR"

# One write of at most PIPE_BUF bytes reaches the reader whole, even from several threads.
_MAX_LINE = 4096


def _number(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy and torch scalars
    value = item() if callable(item) else value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def report(step: int | None = None, total: int | None = None, **metrics: Any) -> None:
    """Report how far the training has come, and any metrics of this step.

    ``step`` and ``total`` count whatever the module counts (epochs, batches); both optional.
    Safe to call from any thread; a no-op outside a deepaas training process.
    """
    fd = os.environ.get(ENV_FD)
    if not fd:
        return
    record = {"time": time.time(), "step": _number(step), "total": _number(total),
              "metrics": {str(k): _number(v) for k, v in metrics.items()}}
    line = (json.dumps(record) + "\n").encode("utf-8")
    if len(line) > _MAX_LINE:
        record["metrics"] = {"error": "report too large (%d bytes)" % len(line)}
        line = (json.dumps(record) + "\n").encode("utf-8")
    try:
        os.write(int(fd), line)
    except (OSError, ValueError):
        pass  # the server went away: the training itself must go on



def output_dir() -> str:
    """The folder where this training should write what it produces (created if needed).

    Each training has its own (``DEEPAAS_OUTPUT_DIR``); outside a deepaas training it is
    ``deepaas.data_dir("output")``.
    """
    from deepaas import data_dir

    path = os.environ.get(ENV_OUTPUT_DIR) or data_dir("output")
    os.makedirs(path, exist_ok=True)
    return path
