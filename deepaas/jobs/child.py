"""The process a training runs in: ``python -m deepaas.jobs.child RESULT_PATH``.

It reads a pickled request on standard input (the module's import reference, the keyword
arguments, whether to warm), loads the module again, warms it as the server did, calls
``train(**kwargs)`` and writes the outcome as JSON to RESULT_PATH. It is started as the leader
of its own process group, so that cancelling kills everything it started.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import traceback
from typing import Any

from deepaas.lifeline import die_with_server

__all__ = ["main"]


def _write(path: str, outcome: dict[str, Any]) -> None:
    from deepaas.model.outputs import dumps

    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(dumps(outcome))
    os.replace(tmp, path)


def _run(request: dict[str, Any]) -> dict[str, Any]:
    from deepaas.model.loading import resolve
    from deepaas.model.wrapper import ModelWrapper

    model = ModelWrapper(request["name"], resolve(request["source"]), request["source"])
    if request.get("warm"):
        model.warm()
    train = getattr(model.obj, "train", None)
    if not callable(train):
        return {"status": "error", "message": "Model '%s' does not provide train" % model.name}
    try:
        output = train(**request["kwargs"])
    except NotImplementedError:
        return {"status": "error", "message": "Model '%s' does not implement train" % model.name}
    except Exception as exc:  # the module's failure is the job's outcome, not ours
        traceback.print_exc()
        return {"status": "error", "message": str(exc)}
    return {"status": "done", "output": output}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    result_path = argv[0]
    die_with_server()
    try:
        outcome = _run(pickle.load(sys.stdin.buffer))
    except BaseException as exc:  # loading or warming failed: report it as the job's error
        traceback.print_exc()
        outcome = {"status": "error", "message": "%s: %s" % (type(exc).__name__, exc)}
    try:
        _write(result_path, outcome)
    except Exception:
        traceback.print_exc()
        _write(result_path, {"status": "error", "message": "train returned a value that "
                             "could not be stored: " + json.dumps(repr(outcome))[:500]})
    return 0 if outcome["status"] == "done" else 1


if __name__ == "__main__":
    sys.stdout.flush()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: threads a module started must not keep the job "running".
    os._exit(code)
