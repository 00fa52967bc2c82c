"""Where grading tasks run: a Dask cluster, embedded on this machine unless one is given.

:func:`run_tasks` sends each :class:`reglab.gradetask.Task` to a Dask worker, which runs
:func:`reglab.gradetask.run`, and reports each result as it comes. By default the cluster is a
``LocalCluster`` in this process (nothing to start: one worker thread per submission graded
at a time, each waiting on its own ``nbgrader autograde``). Given a scheduler's address
(``tcp://HOST:8786``), the tasks go to that cluster's workers instead; they need the course's
Python environment, not its folder. When a worker dies, the scheduler gives its task to
another one; a task that keeps killing workers ends in ``KilledWorker`` and is reported as
failed, while the others go on.
"""

import logging
from collections.abc import Callable, Sequence

from reglab.gradetask import Result, Task, run

Report = Callable[[Task, Result | None, str], None]  # (task, result or None, why it failed)
CONNECT_SECONDS = 30


class ClusterError(Exception):
    """The cluster could not be reached or started."""


def _client(scheduler: str | None, workers: int):  # noqa: ANN202 - a distributed.Client
    from distributed import Client, LocalCluster

    if scheduler is None:
        for name in ("distributed", "distributed.worker", "distributed.scheduler"):
            logging.getLogger(name).setLevel(logging.ERROR)
        # threads of this process; its HTTP server on a free loopback port (8787 may be taken)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                               dashboard_address="127.0.0.1:0")
        return Client(cluster, set_as_default=False)
    try:
        return Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ClusterError(f"no Dask scheduler answered at {scheduler} within "
                           f"{CONNECT_SECONDS} s ({error}): start it (`dask scheduler`) and "
                           "its workers, or grade without --scheduler") from None


def _why(error: BaseException) -> str:
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        return ("it stopped every grading worker that ran it (the cluster's limit of "
                "distributed.scheduler.allowed-failures)")
    return f"grading error ({type(error).__name__}: {error})"[:300]


def run_tasks(tasks: Sequence[Task], report: Report, scheduler: str | None = None,
              workers: int = 1) -> None:
    """Run ``tasks`` on the cluster (embedded with ``workers`` workers when ``scheduler`` is
    None), calling ``report`` once per task as it ends."""
    if not tasks:
        return
    from distributed import as_completed

    client = _client(scheduler, workers)
    try:
        futures = {client.submit(run, task, key=f"grade-{task.assignment}-{task.student}",
                                 pure=False, retries=1): task for task in tasks}
        for future in as_completed(futures, loop=client.loop):
            task = futures[future]
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - one task must not stop the class
                report(task, None, _why(error))
            else:
                report(task, result, "")
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
