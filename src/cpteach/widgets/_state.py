"""The state a dashboard owns: one bounded :class:`Memo` of computed values, and :class:`IdleWork`, what
it computes ahead while nobody moves a slider (on the kernel's thread: no background thread)."""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from ..chambolle_pock import chambolle_pock
from ..plotting import nice_ceil

__all__ = ["Memo", "model_key", "trace_run", "IdleWork"]


class Memo:
    """The one bounded memo a dashboard owns: values by key, the ``size`` most recently used kept.

    ``memo(key, compute, *args)`` returns the value stored under ``key`` or stores and returns
    ``compute(*args)``. ``memo.run(key, L, L_max, compute)`` returns a run of length >= L for
    ``key`` (e.g. tau, sigma, theta): a stored one that is long enough, otherwise
    ``compute(length)`` with length = min(L_max, nice_ceil(L)), so that a drag of L from 1 to
    500 computes about eight runs and a drag of tau at small L stays cheap; the caller takes
    ``run.prefix(L)``.
    """

    def __init__(self, size=32):
        self.size = int(size)
        self._items = OrderedDict()

    def __contains__(self, key):
        return key in self._items

    def __len__(self):
        return len(self._items)

    def __call__(self, key, compute, *args):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = compute(*args)
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def run(self, key, L, L_max, compute):
        key = ("run", *key)
        length, run = self._items.get(key, (-1, None))
        if length < L:
            length = min(int(L_max), max(int(nice_ceil(L)), int(L)))
            self._items.pop(key, None)
        return self(key, lambda: (length, compute(length)))[1]


def model_key(problem, tau, sigma, theta):
    """What a value computed from a run of ``problem`` depends on, as a memo key: the problem's name and
    F, G (their reprs carry their parameters) besides the steps, so that a dashboard whose slider
    changes the model (a weight, an eps) never reads another model's values."""
    return (problem.name, repr(problem.F), repr(problem.G), tau, sigma, theta)


def trace_run(problem, memo, L, L_max, tau, sigma, theta):
    """A :func:`cpteach.chambolle_pock` trace of ``problem`` of length >= L from ``memo`` (:meth:`Memo.run`),
    keyed by :func:`model_key`."""
    key = ("trace", *model_key(problem, tau, sigma, theta))
    return memo.run(key, L, L_max,
                    lambda length: chambolle_pock(problem.K, problem.F, problem.G, problem.x, tau=tau, sigma=sigma,
                                                  theta=theta, L=length))


class IdleWork:
    """Tasks run in the kernel's idle time: one per tick of its event loop, on the kernel's own thread.

    A task runs only when ``last_active()`` (``time.monotonic()`` of the last slider change; the
    attribute may be replaced: the presenter points its dashboards' idle work at all its tabs)
    lies ``idle_s`` seconds back, so it never competes with a dragged slider. There is no
    thread: nothing can still be running inside numpy when the process exits, and a kernel
    shutdown or restart just drops what is left. Outside an event loop (a script, a test)
    nothing runs by itself; :meth:`drain` runs the rest at once.
    """

    def __init__(self, last_active, idle_s=0.5, tick_s=0.05):
        self.last_active, self._idle_s, self._tick_s = last_active, idle_s, tick_s
        self._tasks = []
        self._scheduled = False

    def replace(self, tasks, delay_s=0.0):
        """Drop the pending tasks and queue ``tasks`` (callables without arguments)."""
        self._tasks = list(tasks)
        self._schedule(delay_s)

    @property
    def pending(self):
        return len(self._tasks)

    def drain(self):
        """Run every pending task now."""
        while self._tasks:
            self._tasks.pop(0)()

    def _schedule(self, delay_s):
        if self._scheduled or not self._tasks:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return                                  # no event loop: tasks run on demand or in drain()
        self._scheduled = True
        loop.call_later(max(delay_s, self._tick_s), self._tick)

    def _tick(self):
        self._scheduled = False
        if self._tasks and time.monotonic() - self.last_active() >= self._idle_s:
            self._tasks.pop(0)()
        self._schedule(self._tick_s)
