"""A worker's sync generator, stepped on a thread of its own a few items ahead of the server.

Asking a worker for one item per message costs a round trip per item (about 200 us here).
Instead, the generator runs on a thread while the server writes what came, up to ``limit``
items (or ``limit_bytes``) ahead, and each request takes every item made so far: at least
one, waited for, so the first item is never held back for others. A server that stops asking
(a slow client) stops it at the bound.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from deepaas.exceptions import DeepaasError
from deepaas.model.streams import Chunk

__all__ = ["Ahead"]

Made = Chunk | DeepaasError | None  # an item, the generator's failure, or its end


class Ahead:
    """Runs ``step`` (the next :class:`Chunk`, None at the end; it may raise a
    :class:`DeepaasError`) on a thread, never more than the bounds ahead of :meth:`take`."""

    def __init__(self, step: Callable[[], Chunk | None], limit: int = 16,
                 limit_bytes: int = 2**20) -> None:
        self._step = step
        self._limit, self._limit_bytes = limit, limit_bytes
        self._cond = threading.Condition()
        self._made: collections.deque[Made] = collections.deque()
        self._unread = 0  # bytes made and not taken
        self._stopped = False
        self._thread: threading.Thread | None = None

    def _full(self) -> bool:
        return len(self._made) >= self._limit or self._unread >= self._limit_bytes

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._full() and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
            made: Made
            try:
                made = self._step()
            except DeepaasError as error:
                made = error
            with self._cond:
                self._made.append(made)
                self._unread += len(made.data) if isinstance(made, Chunk) else 0
                self._cond.notify_all()
            if not isinstance(made, Chunk):
                return

    def start(self) -> None:
        """Begin making items: at once, so that the first is on its way while the answer
        that announces the stream travels to the server."""
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="deepaas-stream")
                self._thread.start()

    def take(self) -> list[Made]:
        """Every item made since the last take; waits for one when there is none yet. The
        last may be the end (None) or the failure."""
        self.start()
        with self._cond:
            while not self._made:
                self._cond.wait()
            taken = list(self._made)
            self._made.clear()
            self._unread = 0
            self._cond.notify_all()
        return taken

    def stop(self) -> None:
        """Make no more; return once no step runs (the generator may be closed then)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
