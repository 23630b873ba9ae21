"""``deepaas-cli``: run a module's method once, from the shell, without a server.

    deepaas-cli [--model-name NAME] [--deepaas_method_output FILE] METHOD [--ARG VALUE ...]

Run with no model and no METHOD, it lists the installed models and the methods each provides.
The result is printed to standard output as JSON, and nothing else is: whatever the module
prints, and every log line, goes to standard error. ``predict`` prints what the module returned
(as DEEPaaS 2.x wrote it to the output file, without the HTTP API's ``{"status": "OK",
"predictions": ...}``). A ``predict`` that streams (returns a generator) prints each item as one
JSON line as soon as it is produced (NDJSON; bytes items go to the output file as they come).
Exit codes: 0 success, 1 the module failed (or no model was chosen), 2 bad usage or invalid
arguments, 141 the reader of standard output left before the end.

Scripts written for DEEPaaS 2.x read some of its exact words, kept here: ``--version`` prints
the bare version; the output file's extension and the log lines ``... New output is PATH``
and ``return: Output is saved in PATH`` (:mod:`deepaas.cmd.cli_output`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import io
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, BinaryIO

from deepaas import __version__
from deepaas.cmd import cli_options
from deepaas.cmd.cli_output import StreamSink, drain, drain_async, emit, write_answer
from deepaas.cmd.progressbar import watch
from deepaas.exceptions import (
    ConfigError,
    DeepaasError,
    InvalidInput,
    ModelLoadError,
    NoModelsFound,
    summary_of,
)
from deepaas.jobs.active import display_args
from deepaas.jobs.records import Job, JobStatus, fold_report, new_job_id
from deepaas.jobs.v2record import record
from deepaas.model import args as margs
from deepaas.model.loading import HOW_TO_DECLARE, discover, installed, instantiate, load_models
from deepaas.model.outputs import Answer, dumps, jsonable
from deepaas.model.wrapper import ModelWrapper

__all__ = ["main"]

LOG = logging.getLogger("deepaas.cli")
OUTPUT = "deepaas_method_output"
METHODS = {
    "get_metadata": "Print the model's metadata.",
    "warm": "Run the model's warm() once.",
    "predict": "Run warm(), then predict() with the given arguments.",
    "train": "Run warm(), then train() with the given arguments (in this process).",
}


class _Usage(ConfigError):
    """No model named where several are installed: exit 1, as DEEPaaS 2.x did for it (and
    for a model that is not installed)."""

    exit_code = 1


@contextlib.contextmanager
def _results_channel() -> Iterator[BinaryIO]:
    """The real standard output, for the result only; fd 1 goes to stderr meanwhile, so that
    the module's prints (and those of anything it starts) cannot spoil the JSON."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with os.fdopen(saved, "wb") as out:
            yield out
    finally:
        sys.stdout.flush()


def _top_level(argv: Sequence[str]) -> argparse.Namespace:
    """What comes before the METHOD: ``--version``, and the METHOD (None when none is given).
    Everything after the METHOD is the method's own (a module may have a ``--version``)."""
    pre = argparse.ArgumentParser(prog="deepaas-cli", add_help=False, allow_abbrev=False)
    pre.add_argument("--model-name")
    pre.add_argument("--" + OUTPUT, dest=OUTPUT)
    pre.add_argument("--version", action="store_true")
    _add_ignored(pre)
    pre.add_argument("method", nargs="?")
    pre.add_argument("rest", nargs=argparse.REMAINDER)
    return pre.parse_known_args(argv)[0]


def _add_ignored(parser: argparse.ArgumentParser) -> None:
    """DEEPaaS 2.x's switch between a subprocess and this one for the call: accepted (scripts
    pass it), and meaningless here, where the method always runs in this process."""
    for flag in ("--deepaas_with_multiprocessing", "--nodeepaas_with_multiprocessing"):
        parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)


def _methods_of(name: str, source: str, plugin: object) -> str:
    try:
        model = ModelWrapper(name, instantiate(plugin), source)
    except ModelLoadError as exc:  # it says what is wrong
        return "failed to load: %s" % exc
    except Exception as exc:
        return "failed to load: %s" % summary_of(exc)
    return ", ".join(m for m in METHODS if model.provides(m))


def _list_models(out: BinaryIO) -> None:
    """Each installed model and the methods it provides (or why it does not load)."""
    names = installed()
    if not names:
        raise NoModelsFound(HOW_TO_DECLARE)
    found, failures = discover()
    why = {f.name: "failed to load: %s" % f.error for f in failures}
    width = max(map(len, names))
    lines = ["Installed models and their methods:"]
    for name in names:
        text = _methods_of(name, *found[name]) if name in found else why.get(name, "not found")
        lines.append("  %s  %s" % (name.ljust(width), text))
    lines += ["", "Run one with: deepaas-cli --model-name NAME METHOD [--ARG VALUE ...]",
              "A method's arguments: deepaas-cli --model-name NAME METHOD --help"]
    out.write(("\n".join(lines) + "\n").encode("utf-8"))
    out.flush()


def _selected_name(argv: Sequence[str]) -> str | None:
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--model-name")
    known, _ = pre.parse_known_args(argv)
    return known.model_name or os.environ.get("DEEPAAS_V2_MODEL") or None


def _select(name: str | None) -> ModelWrapper:
    if name is None:
        names = installed()
        if not names:
            raise NoModelsFound(HOW_TO_DECLARE)
        if len(names) > 1:
            raise _Usage("several models are installed (%s): choose one with --model-name NAME "
                         "or DEEPAAS_V2_MODEL" % ", ".join(names))
        name = names[0]
    return load_models([name]).models[name]


def _parser(model: ModelWrapper | None) -> argparse.ArgumentParser:
    # No abbreviations: "--mode" must never be taken for "--model-name".
    parser = argparse.ArgumentParser(
        prog="deepaas-cli", allow_abbrev=False,
        description="Run a DEEPaaS module's method once, without a server. The result goes "
        "to standard output as JSON; logs go to standard error.")
    # the bare version, as DEEPaaS 2.x printed it: scripts parse it
    parser.add_argument("--version", action="version", version=__version__)
    _add_ignored(parser)
    parser.add_argument("--model-name", metavar="NAME", help="The model to use (env "
                        "DEEPAAS_V2_MODEL); needed when several are installed. Without it and "
                        "without METHOD, the installed models are listed.")
    parser.add_argument("--" + OUTPUT, dest=OUTPUT, metavar="FILE",
                        help="Also write the result to FILE (binary results go only there).")
    if model is None:
        return parser
    methods = parser.add_subparsers(dest="method", required=True, metavar="METHOD")
    for method, text in METHODS.items():
        sub = methods.add_parser(method, help=text, description=text, allow_abbrev=False)
        sub.add_argument("--" + OUTPUT, dest=OUTPUT, metavar="FILE", default=argparse.SUPPRESS,
                         help="Also write the result to FILE.")
        if method in ("predict", "train"):
            cli_options.add_arguments(sub, _spec(model, method))
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str], out: BinaryIO) -> argparse.Namespace:
    """Parse, with ``--help`` going to the real standard output as usual."""
    stream = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    try:
        with contextlib.redirect_stdout(stream):
            return parser.parse_args(argv)
    finally:
        stream.detach()


def _spec(model: ModelWrapper, method: str) -> margs.ArgSpec:
    return model.predict_args if method == "predict" else model.train_args


def _predict(model: ModelWrapper, kwargs: dict[str, Any], out: BinaryIO,
             target: str | None) -> None:
    accept = kwargs.get("accept") if model.predict_args.has_accept else None
    # A streamed answer is written while the uploads it may read still exist.
    with cli_options.temp_uploads(model.predict_args, kwargs) as converted:
        if model.predict_is_async:
            asyncio.run(_apredict(model, converted, accept, out, target))
        else:
            _write(model, model.predict(converted, accept, envelope=False), out, target, accept)


async def _apredict(model: ModelWrapper, kwargs: dict[str, Any], accept: str | None,
                    out: BinaryIO, target: str | None) -> None:
    """A coroutine ``predict``, and the async generator it may return, on one event loop."""
    answer = await model.apredict(kwargs, accept, envelope=False)
    if isinstance(answer.stream, AsyncIterator):
        await _write_async(model, answer, out, target)
    else:  # a sync generator blocks this loop, which has nothing else to do
        _write(model, answer, out, target, accept)


def _write(model: ModelWrapper, answer: Answer, out: BinaryIO, target: str | None,
           accept: str | None) -> None:
    """An answer as it comes: whole, or item by item when it streams."""
    if isinstance(answer.stream, AsyncIterator):
        asyncio.run(_write_async(model, answer, out, target))
    elif answer.stream is not None:
        with StreamSink(out, model.name, answer.content_type, target) as sink:
            drain(model, answer, sink)
    else:
        write_answer(model.name, answer, out, target, accept)


async def _write_async(model: ModelWrapper, answer: Answer, out: BinaryIO,
                       target: str | None) -> None:
    with StreamSink(out, model.name, answer.content_type, target) as sink:
        await drain_async(model, answer, sink)


def _train(model: ModelWrapper, kwargs: dict[str, Any], out: BinaryIO,
           target: str | None) -> None:
    job = Job(uuid=new_job_id(), model=model.name, args=display_args(model.train_args, kwargs),
              date=datetime.datetime.now(), status=JobStatus.RUNNING)
    with cli_options.temp_uploads(model.train_args, kwargs) as converted:
        with watch(lambda report: fold_report(job, report)):
            output = model.call("train", **converted)
    job.status, job.output = JobStatus.DONE, jsonable(output)
    job.finish_date = datetime.datetime.now()
    emit(out, record(job, with_metrics=True), target)


def _without_model(argv: list[str], out: BinaryIO) -> int | None:
    """``--version``, or the list of models when neither a model nor a METHOD is given."""
    top = _top_level(argv)
    if top.version:  # the bare version, as DEEPaaS 2.x printed it: scripts parse it
        out.write(("%s\n" % __version__).encode("utf-8"))
        return 0
    if top.method is not None or _selected_name(argv) is not None:
        return None
    if "-h" in argv or "--help" in argv:
        out.write(_parser(None).format_help().encode("utf-8") + b"\n")
    _list_models(out)
    return 0


def _run(argv: list[str], out: BinaryIO) -> int:
    done = _without_model(argv, out)
    if done is not None:
        return done
    try:
        model: ModelWrapper | None = _select(_selected_name(argv))
    except _Usage as exc:
        if "-h" in argv or "--help" in argv:
            _parser(None).print_help(sys.stderr)
            print("\n%s" % exc, file=sys.stderr)
            return 0
        raise
    assert model is not None
    args = _parse(_parser(model), argv, out)
    target = getattr(args, OUTPUT, None)
    if args.method == "get_metadata":
        emit(out, model.metadata(), target)
        return 0
    if args.method == "warm":
        model.warm()
        emit(out, {"model": model.name, "warmed": True}, target)
        return 0
    spec = _spec(model, args.method)
    kwargs = margs.validate(spec, cli_options.collect(spec, args))
    model.warm()
    (_predict if args.method == "predict" else _train)(model, kwargs, out, target)
    return 0


def _report(exc: DeepaasError) -> None:
    if isinstance(exc, InvalidInput):
        print("deepaas-cli: invalid arguments: %s" % dumps(exc.messages), file=sys.stderr)
    else:  # a module's traceback was logged where it was caught
        print("deepaas-cli: %s" % exc, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one method and print its result; the exit code says how it went."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    LOG.setLevel(logging.INFO)  # its own few lines, which scripts read (where output went)
    with _results_channel() as out:
        try:
            return _run(argv, out)
        except DeepaasError as exc:
            _report(exc)
            return exc.exit_code
        except BrokenPipeError:
            # The reader left (`deepaas-cli ... predict | head -1`): the stream's generator was
            # closed on the way here; end quietly with a shell's code for a writer cut off by
            # its reader, and leave the closing of the dead pipe nothing to flush.
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
            return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
