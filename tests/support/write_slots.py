"""Dataset-lock slots left taken on the test session's Prefect server by processes that died.

The test server runs no repossessor (ephemeral mode): a slot held by a process that died (a
test's killed or timed-out child) would stay taken for the rest of the session, and every later
writer in that pytest worker would wait on it for the lock's hour. A deployment's server frees
it when the lease expires; between tests, :func:`free_leaked_write_slots` does.
"""

from __future__ import annotations

from prefect import get_client

from tasks.locks import LOCK_PREFIX


def free_leaked_write_slots() -> list[str]:
    """Delete every dataset-lock limit with a slot taken (call when no writer runs); names."""
    freed = []
    with get_client(sync_client=True) as client:
        for limit in client.read_global_concurrency_limits(limit=50):
            if limit.name.startswith(LOCK_PREFIX) and limit.active_slots:
                client.delete_global_concurrency_limit_by_name(limit.name)
                freed.append(limit.name)
    return freed
