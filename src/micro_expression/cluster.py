"""Whether this code runs as a node on a Dask cluster (light: no Dask import until used)."""

from __future__ import annotations

import contextlib
import contextvars

FANS_OUT_TAG = "fans_out"
"""Nodes with this tag spread their own work over the cluster (preprocessing's clips); their
task gives its worker slot back while it waits, so that work can use it."""

_scheduler: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "micro_expression_dask_scheduler", default=None
)


def current_scheduler() -> str | None:
    """The scheduler's address while a node runs under the Dask runner, else None."""
    return _scheduler.get()


def run_on_cluster(scheduler: str, function, *args):  # noqa: ANN001, ANN201
    """``function(*args)`` in a context where :func:`current_scheduler` is ``scheduler``."""
    context = contextvars.copy_context()
    context.run(_scheduler.set, scheduler)
    return context.run(function, *args)


def scheduler_client():  # noqa: ANN201 (distributed.Client, imported only when used)
    """The driver's client, or on a worker one of the scheduler the node runs for."""
    from distributed import get_client

    return get_client(address=current_scheduler())


def one_at_a_time(name: str) -> contextlib.AbstractContextManager:
    """A cluster-wide lock called ``name`` while this code runs as a node on Dask (several
    workers may do the same thing at once there); no lock otherwise."""
    if current_scheduler() is None:
        return contextlib.nullcontext()
    from distributed import Lock

    client = scheduler_client()
    return Lock(name, scheduler_rpc=client.scheduler, loop=client.loop)
