"""The process a training runs in: ``python -m deepaas.jobs.child RESULT_PATH``.

It reads a pickled request on standard input (the module's import reference, the keyword
arguments, whether to warm), loads the module again, warms it as the server did, calls
``train(**kwargs)`` and writes the outcome as JSON to RESULT_PATH. It is started as the leader
of its own process group (and where the machine allows it in a cgroup of its own), so that
cancelling or ending the training stops everything it started (``deepaas.jobs.tracking``).
The server pins it to its CPUs and limits its memory before it reads its request
(``deepaas.jobs.limits``); under an address-space limit it says itself that it went over.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from typing import Any

from deepaas.exceptions import message_of, summary_of
from deepaas.jobs.limits import exceeded
from deepaas.lifeline import die_with_server

__all__ = ["main"]


def _stored(outcome: dict[str, Any]) -> tuple[str, bool]:
    """The outcome as strict JSON, and whether it is "done". NaN or Infinity in what train
    returned becomes null (said in the training's log); a value with no JSON form ends the
    training as an error naming its type and field (``output.model``), never its text."""
    from deepaas.exceptions import NoJsonForm, summary_of
    from deepaas.model.outputs import dumps, encode

    try:
        text, nulled = encode(outcome, "train returned")
    except NoJsonForm as exc:
        message = exc.message
    except Exception as exc:  # a tolist() that raises, nesting too deep for the encoder
        traceback.print_exc()
        message = "train returned a value that could not be stored: %s" % summary_of(exc)
    else:
        for path in nulled.values():
            print("[deepaas] train returned NaN or Infinity at %s: stored as null (JSON has "
                  "no such numbers)" % path, file=sys.stderr)
        return text, outcome["status"] == "done"
    print("[deepaas] %s" % message, file=sys.stderr)
    return dumps({"status": "error", "message": message}), False


def _write(path: str, text: str) -> None:
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _over_limit(exc: BaseException) -> str | None:
    """The memory limit's message when ``exc`` is the training running out of it (under an
    address-space limit an allocation fails, the process lives on to say so)."""
    message = exceeded(exc)
    if message is not None:
        print("[deepaas] %s" % message, file=sys.stderr)
    return message


def _run(request: dict[str, Any]) -> dict[str, Any]:
    from deepaas.model.args import scrub
    from deepaas.workers.warmed import load_warmed

    model = load_warmed(request["name"], request["source"], bool(request.get("warm")))
    train = getattr(model.obj, "train", None)
    if not callable(train):
        return {"status": "error", "message": "Model '%s' does not provide train" % model.name}
    try:
        output = train(**request["kwargs"])
    except NotImplementedError:
        return {"status": "error", "message": "Model '%s' does not implement train" % model.name}
    except Exception as exc:  # the module's failure is the job's outcome, not ours
        # Its text may quote a secret argument (a URL with a password): the log and the
        # record show it as "***". What the module prints itself is its own.
        secrets = model.secrets_in("train", request["kwargs"])
        print(scrub(traceback.format_exc(), secrets), end="", file=sys.stderr)
        return {"status": "error", "message": _over_limit(exc) or scrub(message_of(exc),
                                                                         secrets)}
    return {"status": "done", "output": output}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    result_path = argv[0]
    die_with_server()
    try:
        outcome = _run(pickle.load(sys.stdin.buffer))
    except BaseException as exc:  # loading or warming failed: report it as the job's error
        traceback.print_exc()
        outcome = {"status": "error", "message": _over_limit(exc) or summary_of(exc)}
    text, done = _stored(outcome)
    _write(result_path, text)
    return 0 if done else 1


if __name__ == "__main__":
    sys.stdout.flush()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: threads a module started must not keep the job "running".
    os._exit(code)
