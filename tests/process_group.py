"""Run a function in W fresh processes joined in a gloo process group, robustly.

The multi-process tests used to die now and then with SIGABRT ("terminate called
without an active exception") on a loaded machine. What this harness does about it:

- every rank uses one intra-op thread, so two ranks do not oversubscribe two busy cores;
- the group has a finite timeout: a rank that never arrives fails the test instead of
  hanging it for gloo's default 30 minutes;
- garbage collection runs, then a barrier, before ``destroy_process_group``: DDP reducers
  and pending work die while the group still exists, and no rank tears the group down
  while a peer is still using it;
- the child then leaves with ``os._exit`` once its result is on disk: spawned children
  otherwise finalize the interpreter, where process-group objects that outlive the group
  can abort the process (the SIGABRT above), turning a passed computation into an error.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def run_in_process_group(worker: Callable[..., Any], world_size: int, folder: Path, *args: Any, timeout_s: float = 300) -> list[Any]:
    """``worker(rank, *args)`` on every rank (a module-level function); its return
    values, one per rank, in rank order."""
    folder.mkdir(parents=True, exist_ok=True)
    mp.spawn(_rank_main, args=(worker, world_size, str(folder), args, timeout_s), nprocs=world_size, join=True)
    return [torch.load(folder / f"rank{rank}.pt", weights_only=False) for rank in range(world_size)]


def _rank_main(rank: int, worker: Callable[..., Any], world_size: int, folder: str, args: tuple, timeout_s: float) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{folder}/init", rank=rank, world_size=world_size, timeout=timedelta(seconds=timeout_s)
    )
    try:
        result = worker(rank, *args)
        torch.save(result, Path(folder) / f"rank{rank}.pt")
        del result
        gc.collect()
        dist.barrier()
    finally:
        dist.destroy_process_group()
    os._exit(0)
