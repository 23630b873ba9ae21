"""One model's predictions: a bounded line, timeouts, and dynamic batching.

Requests wait in a queue of at most ``max_queue`` (beyond it: 503 with Retry-After). As many
consumers as the runner has workers take them out: one at a time, or, for a module with
``predict_batch``, as many as arrive within ``batch_delay`` up to ``batch_size``, in one call.
A request whose client went away while it waited is dropped unrun.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Protocol

from deepaas.exceptions import DeepaasError, ModelError, Overloaded, PredictTimeout
from deepaas.model.outputs import Answer
from deepaas.model.streams import Releasing, Timed, close_later, served_locally
from deepaas.model.wrapper import ModelWrapper
from deepaas.workers.messages import Call, Result

__all__ = ["Batching", "Dispatcher", "Runner"]

LOG = logging.getLogger(__name__)
_MAX_HANDOVER = 32  # waiting predictions one consumer takes in one go


class Runner(Protocol):
    """Where a model's code runs: threads of this process, worker processes or Ray actors.

    ``run`` takes a list of calls (one prediction, or several handed over or batched together)
    and gives one answer or error per call, in order; it raises only when all of them failed
    alike. ``local``: model code runs in this process, so a coroutine ``predict`` may be
    awaited on the event loop directly.
    """

    capacity: int
    restarts: int
    local: bool

    async def start(self) -> None: ...

    async def run(self, calls: list[Call]) -> list[Result]: ...

    def abandon(self, task: asyncio.Task[Any]) -> None: ...

    async def close(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class Batching:
    """Gather up to ``size`` requests, waiting at most ``delay`` seconds after the first."""

    size: int
    delay: float


@dataclasses.dataclass
class _Waiting:
    """A prediction in line: the call and the future its client awaits."""

    call: Call
    future: asyncio.Future[Answer]
    release: Callable[[], None] | None = None  # frees what the call uses (uploaded files)
    stop: bool = False  # its client giving up stops the work (a worker process is killed)

    def done(self) -> None:
        if self.release is not None:
            self.release()
            self.release = None


def _settle(waiting: _Waiting, result: Answer | BaseException) -> None:
    if waiting.future.done():  # the client went away, or it timed out
        if isinstance(result, Answer) and result.stream is not None:
            close_later(result.stream)  # nobody will read it: free what produces it
        return
    if isinstance(result, BaseException):
        waiting.future.set_exception(result)
    else:
        waiting.future.set_result(result)


def _close_unread(future: asyncio.Future[Answer]) -> None:
    """The client went away just as its answer came: a stream nobody will read is closed
    (else it would hold its worker for good)."""
    if future.done() and not future.cancelled() and future.exception() is None:
        stream = future.result().stream
        if stream is not None:
            close_later(stream)


class Dispatcher:
    """The way in for one model's predictions."""

    def __init__(self, model: ModelWrapper, runner: Runner, max_queue: int,
                 timeout: float = 0.0, batching: Batching | None = None,
                 direct: bool = False) -> None:
        self.model = model
        self.runner = runner
        # A coroutine predict in this process is awaited at once, concurrently: queueing it
        # behind "workers" consumers would serialise what its author made concurrent.
        self._direct = direct
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._max_queue = max_queue
        self._idle = 0  # consumers waiting for work: what they will take at once never waits
        self._timeout = timeout or None
        self._batching = batching
        self._consumers: list[asyncio.Task[None]] = []
        self._warmed = asyncio.Event()  # predictions that come during warm-up wait for it
        self.failure: DeepaasError | None = None  # why the model could not be started

    @property
    def ready(self) -> bool:
        return self._warmed.is_set() and self.failure is None

    @property
    def waiting(self) -> int:
        """Predictions queued that no free consumer is about to take."""
        return max(self._queue.qsize() - self._idle, 0)

    async def _next(self) -> _Waiting:
        self._idle += 1
        try:
            return await self._queue.get()
        finally:
            self._idle -= 1

    async def start(self) -> None:
        """Warm the model where it will predict, then start taking predictions; if warming
        fails, every waiting and later prediction answers why."""
        try:
            await self.runner.start()
        except Exception as exc:
            self.failure = exc if isinstance(exc, DeepaasError) else ModelError(
                "Model '%s' failed to start: %s: %s" % (self.model.name, type(exc).__name__, exc))
            while not self._queue.empty():
                call = self._queue.get_nowait()
                _settle(call, self.failure)
                call.done()
            self._warmed.set()
            raise self.failure from exc
        self._warmed.set()
        consume = self._consume_batches if self._batching else self._consume
        self._consumers = [asyncio.create_task(consume(), name="predict-%s-%d" % (
            self.model.name, i)) for i in range(self.runner.capacity)]

    async def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        while not self._queue.empty():
            call = self._queue.get_nowait()
            call.future.cancel()
            call.done()
        await self.runner.close()

    async def predict(self, kwargs: dict[str, Any], accept: str | None,
                      release: Callable[[], None] | None = None, stop: bool = False) -> Answer:
        """Queue one prediction and wait for its answer.

        ``release`` is called once the prediction no longer needs its inputs: when it ran, or
        when it was dropped unrun because the client went away while it waited. ``stop``:
        cancelling this call while it runs stops the work where it can be stopped (a worker
        process or Ray actor is killed and replaced; a thread runs to its end), as a client's
        DELETE of an asynchronous prediction asks; else the work ends unheard.
        """
        if self.failure is not None:
            if release is not None:
                release()
            raise self.failure
        if self._direct:
            return await self._await_direct(kwargs, accept, release)
        if self.waiting >= self._max_queue:
            self._drop_abandoned()
        if self.waiting >= self._max_queue:
            if release is not None:
                release()
            raise Overloaded("Model '%s' has %d predictions waiting already; try again shortly"
                             % (self.model.name, self.waiting))
        call = _Waiting(Call(kwargs, accept), asyncio.get_running_loop().create_future(),
                        release, stop)
        self._queue.put_nowait(call)
        try:
            return await call.future  # cancelled with the handler when the client goes away
        except asyncio.CancelledError:
            _close_unread(call.future)
            raise

    async def _await_direct(self, kwargs: dict[str, Any], accept: str | None,
                            release: Callable[[], None] | None) -> Answer:
        """A coroutine ``predict`` of this process, awaited at once."""
        waiting = _Waiting(Call(kwargs, accept), asyncio.get_running_loop().create_future(),
                           release)
        try:
            await self._warmed.wait()
            try:
                answer = await asyncio.wait_for(self.model.apredict(kwargs, accept),
                                                self._timeout)
            except asyncio.TimeoutError:
                raise self._late() from None
            streamed = self._streamed(waiting, served_locally(answer, self.model))
            assert isinstance(streamed, Answer)  # an Answer stays one
            return streamed
        finally:
            waiting.done()

    def _streamed(self, waiting: _Waiting, result: Result) -> Result:
        """A streamed answer keeps the call's inputs until it is over, and with
        ``--predict-timeout`` bounds the time of each item."""
        if not isinstance(result, Answer) or result.stream is None:
            return result
        stream = result.stream
        if waiting.release is not None:
            stream, waiting.release = Releasing(stream, waiting.release), None
        if self._timeout is not None:
            stream = Timed(stream, self._timeout, self.model.name)
        return dataclasses.replace(result, stream=stream)

    def _drop_abandoned(self) -> None:
        """Take out of the line, before refusing anyone, what its clients gave up while it
        waited (a client gone, an asynchronous prediction cancelled): their places are free.
        Only when the line looks full, so the common path never walks the queue."""
        kept = []
        while not self._queue.empty():
            call = self._queue.get_nowait()
            if call.future.done():
                call.done()
            else:
                kept.append(call)
        for call in kept:  # in their order
            self._queue.put_nowait(call)

    def _ready(self, first: _Waiting) -> list[_Waiting]:
        """``first`` and, without a timeout, this consumer's share of what already waits:
        handed over together, they cost one thread or process hand-over instead of many."""
        calls = [first]
        if self._timeout is None:
            share = min(_MAX_HANDOVER - 1, self._queue.qsize() // self.runner.capacity)
            for _ in range(share):
                calls.append(self._queue.get_nowait())
        return calls

    async def _consume(self) -> None:
        while True:
            calls = self._ready(await self._next())
            try:
                live = [c for c in calls if not c.future.done()]
                if live:
                    await self._execute(live)
            finally:
                for call in calls:
                    call.done()

    async def _gather(self, first: _Waiting) -> list[_Waiting]:
        assert self._batching is not None
        batch = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._batching.delay
        while len(batch) < self._batching.size:
            try:
                call = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    call = await asyncio.wait_for(self._queue.get(), left)
                except asyncio.TimeoutError:
                    break
            if call.future.done():
                call.done()
            else:
                batch.append(call)
        return batch

    async def _consume_batches(self) -> None:
        while True:
            first = await self._next()
            if first.future.done():
                first.done()
                continue
            batch = await self._gather(first)
            try:
                live = [c for c in batch if not c.future.done()]
                if live:
                    await self._execute(live)
            finally:
                for call in batch:
                    call.done()

    async def _execute(self, waiting: list[_Waiting]) -> None:
        calls = [one.call for one in waiting]
        try:
            stoppable = not self.runner.local and any(one.stop for one in waiting)
            if self._timeout is None and not stoppable:
                results: list[Result] | None = await self.runner.run(calls)
            else:
                results = await self._watched(calls, waiting)
            if results is None:  # too late: answered 504 already
                return
        except DeepaasError as error:
            for one in waiting:
                _settle(one, error)
            return
        except Exception as exc:  # a bug of ours must not kill the consumer
            LOG.exception("prediction of %s failed unexpectedly", self.model.name)
            for one in waiting:
                _settle(one, ModelError("Prediction failed: %s: %s" % (type(exc).__name__, exc)))
            return
        for one, result in zip(waiting, results, strict=True):
            _settle(one, self._streamed(one, result))

    def _late(self) -> PredictTimeout:
        return PredictTimeout("Model '%s' took longer than %g s to predict"
                              % (self.model.name, self._timeout or 0))

    async def _watched(self, calls: list[Call], waiting: list[_Waiting]) -> list[Result] | None:
        """Run with ``--predict-timeout`` and/or calls that may be stopped. Late calls answer
        504 at once; when every caller of stoppable calls gave up, nobody waits for the
        answer. Either way the work is abandoned (a worker process is killed and replaced)
        and awaited before going on."""
        task = asyncio.create_task(self.runner.run(calls))
        gone = _all_given_up(waiting)
        watched: set[asyncio.Future[Any]] = {task, gone}
        done, _ = await asyncio.wait(watched, timeout=self._timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if task in done:
            return task.result()
        if not done:  # too late
            for one in waiting:
                _settle(one, self._late())
        self.runner.abandon(task)
        with contextlib.suppress(Exception):
            await task
        return None


def _all_given_up(waiting: list[_Waiting]) -> asyncio.Future[None]:
    """Done once every call's client gave up, where all of them asked to ``stop`` then;
    never done otherwise (until cancelled)."""
    gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    if not all(one.stop for one in waiting):
        return gone
    futures = [one.future for one in waiting]

    def check(_: Any) -> None:
        if not gone.done() and all(f.cancelled() for f in futures):
            gone.set_result(None)

    for future in futures:
        future.add_done_callback(check)
    return gone
