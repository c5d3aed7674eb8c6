"""The task layer's retry rule for single store operations under injected faults.

``tasks/`` retries a task run when it fails with a ``TransientError``. A test that calls a store
operation directly (not through a flow) retries it the same way with :func:`retry`, with the
backoff left out. Fetch jobs under faults run through the flows' own tasks and retries instead
(``tests.support.fetching``).
"""

from __future__ import annotations

from collections.abc import Callable

from tradingstation.errors import TransientError

RETRIES = 12


class Attempts:
    """Counts attempts and transient failures seen by :func:`retry`."""

    def __init__(self) -> None:
        self.attempts = 0
        self.transient = 0


def retry[T](fn: Callable[[], T], budget: int = RETRIES, attempts: Attempts | None = None) -> T:
    """Call ``fn`` until it does not raise a ``TransientError``, at most ``budget + 1`` times."""
    for number in range(budget + 1):
        if attempts is not None:
            attempts.attempts += 1
        try:
            return fn()
        except TransientError:
            if attempts is not None:
                attempts.transient += 1
            if number == budget:
                raise
    raise AssertionError("unreachable")
