"""The streams a worker process or Ray actor holds for the server, by number.

A sync generator runs on a thread of its own a few items ahead of the server
(:mod:`deepaas.workers.ahead`), and each :class:`~deepaas.workers.messages.Pull` takes what
it made so far (at least one item); a client that reads slowly stops it at that bound. An
async generator is stepped on the worker's own event loop, one item per Pull.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

from deepaas.exceptions import DeepaasError
from deepaas.model.streams import Chunk, Kind
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.ahead import Ahead
from deepaas.workers.messages import Answer, Close, Error, Outcome, Pull

__all__ = ["Producers"]


@dataclasses.dataclass
class _Producer:
    source: Any
    kind: Kind
    is_async: bool
    over: Callable[[], None] | None = None  # called once the stream is over
    ahead: Ahead | None = None  # steps a sync generator on its own thread


class Producers:
    """Numbered generators of one worker: registered from outcomes, stepped, closed."""

    def __init__(self, model: ModelWrapper, loop: asyncio.AbstractEventLoop) -> None:
        self._model = model
        self._loop = loop
        self._open: dict[int, _Producer] = {}
        self._numbers = itertools.count(1)

    def __len__(self) -> int:
        return len(self._open)

    def register(self, outcomes: list[Outcome], over: Callable[[], None] | None = None
                 ) -> list[Outcome]:
        """The outcomes as they travel: each generator replaced by its number. ``over`` is
        called when the last of these streams is over (the caller's uploads can go then);
        at once when none streams."""
        streamed = [one for one in outcomes if isinstance(one, Answer) and one.stream is not None]
        left = [len(streamed)]

        def one_over() -> None:
            left[0] -= 1
            if left[0] == 0 and over is not None:
                over()

        if not streamed and over is not None:
            over()
        return [self._numbered(one, one_over) if one in streamed else one for one in outcomes]

    def _numbered(self, answer: Outcome, over: Callable[[], None]) -> Outcome:
        assert isinstance(answer, Answer)
        number = next(self._numbers)
        source = answer.stream
        is_async = isinstance(source, AsyncIterator)
        kind = Kind(self._model.name, self._model.stream_errors(answer))
        producer = _Producer(source if is_async else iter(source), kind, is_async, over)
        if not is_async:
            producer.ahead = Ahead(functools.partial(self._step, producer))
            producer.ahead.start()
        self._open[number] = producer
        return dataclasses.replace(answer, stream=number)

    def answer(self, message: Pull | Close) -> list[Chunk | Error | None]:
        """What the server asked: the next items (at least one; the last may be None, the
        end, or the Error the generator raised), or a close (answered ``[]``)."""
        if isinstance(message, Close):
            self.close(message.stream)
            return []
        producer = self._open.get(message.stream)
        if producer is None:
            return [None]
        if producer.ahead is not None:
            made = producer.ahead.take()
        else:
            try:
                made = [self._step(producer)]
            except DeepaasError as error:
                made = [error]
        if not isinstance(made[-1], Chunk):
            self._end(message.stream)
        return [Error.of(one) if isinstance(one, DeepaasError) else one for one in made]

    def _step(self, producer: _Producer) -> Chunk | None:
        if producer.is_async:
            return self._loop.run_until_complete(producer.kind.astep(producer.source))
        return producer.kind.step(producer.source)

    def close(self, number: int) -> None:
        """Stop a stream before its end: its generator's ``finally`` runs now."""
        producer = self._open.get(number)
        if producer is None:
            return
        if producer.ahead is not None:  # a generator running on a thread cannot be closed
            producer.ahead.stop()
        with contextlib.suppress(Exception):
            if producer.is_async:
                self._loop.run_until_complete(producer.source.aclose())
            elif hasattr(producer.source, "close"):
                producer.source.close()
        self._end(number)

    def close_all(self) -> None:
        for number in list(self._open):
            self.close(number)

    def _end(self, number: int) -> None:
        producer = self._open.pop(number, None)
        if producer is not None and producer.over is not None:
            producer.over()
