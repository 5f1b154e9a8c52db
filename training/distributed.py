# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Training on several processes (``torchrun``): process group, data shards, reduced metrics, rank-0 writes.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) :func:`setup` joins the process group —
``nccl`` when each process drives a GPU, ``gloo`` on CPU — and every helper here acts on it. In a plain
process they are no-ops with world size 1, so ``train`` has one code path for 1 and N processes.

The global batch (``--batch-size``) is split evenly over the processes, the class-weighted loss is
normalised by the global batch's weight and BatchNorm buffers are taken from rank 0 before evaluating,
so N processes take the same optimiser steps on the same samples as one process, up to BatchNorm's batch
statistics (each process normalises its own share of the batch, DDP's default) and float summation order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler, Sampler


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def is_main() -> bool:
    """True in the one process that prints, writes checkpoints, metrics and exports."""
    return rank() == 0


def setup(device: torch.device) -> torch.device:
    """Join torchrun's process group when launched by it; the device this process trains on.

    A bare ``cuda`` becomes this process's GPU (``LOCAL_RANK``). Ranks other than 0 keep stderr but
    send stdout to /dev/null so a run prints its progress once.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return device
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        dist.init_process_group("gloo")
    if not is_main():
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    return device


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def local_batch(global_batch: int) -> int:
    """This process's share of the global batch; the batch must split evenly over the processes."""
    if global_batch % world_size():
        raise SystemExit(f"--batch-size {global_batch} does not split over {world_size()} processes")
    return global_batch // world_size()


def wrap(model: nn.Module, device: torch.device, seed: int) -> nn.Module:
    """``model`` for the training steps: DDP-wrapped (gradients averaged) when there are several processes.

    Each process then reseeds its own dropout stream (``seed + rank``) so the processes' masks are not
    copies of each other.
    """
    if world_size() > 1:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    torch.manual_seed(seed + rank())
    return model


def plain(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (for evaluation, state dicts and exports)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def sync_buffers(model: nn.Module) -> None:
    """Give every process rank 0's BatchNorm running statistics (each updated its own from its shard)."""
    if world_size() > 1:
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)


def _reduce_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def reduce_sum(*values: float) -> list[float]:
    """Each value summed over all processes (e.g. a loss total and its sample count)."""
    if world_size() == 1:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=_reduce_device())
    dist.all_reduce(tensor)
    return tensor.tolist()


def global_mean(value: torch.Tensor) -> torch.Tensor:
    """The mean over processes of a scalar (detached): a per-process loss divided by it and then averaged
    by DDP equals the loss of the whole global batch."""
    if world_size() == 1:
        return value.detach()
    total = value.detach().clone()
    dist.all_reduce(total)
    return total / world_size()


def any_rank(flag: bool) -> bool:
    """True on every process when it is true on any (so all stop together; a lone stop would hang the rest)."""
    return bool(reduce_sum(float(flag))[0]) if world_size() > 1 else flag


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


class TrainSampler(DistributedSampler):
    """This process's share of each shuffled epoch, as ``(epoch, index)`` keys.

    The permutation depends only on the seed and the epoch, and rank r takes every N-th sample of it,
    so one global batch holds the same samples whatever N is; the epoch in the key lets the dataset
    draw each sample's augmentation from (seed, epoch, index), whatever process or loader worker loads it.
    """

    def __init__(self, length: int, seed: int) -> None:
        super().__init__(range(length), num_replicas=world_size(), rank=rank(), shuffle=True, seed=seed,
                         drop_last=True)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((self.epoch, index) for index in super().__iter__())


class EvalSampler(Sampler[int]):
    """Every N-th sample from this process's rank, in order and without padding (see :func:`gather_rows`)."""

    def __init__(self, length: int) -> None:
        self.indices = range(rank(), length, world_size())

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def gather_rows(rows: np.ndarray) -> np.ndarray:
    """Every process's :class:`EvalSampler` rows put back in the data set's order, on every process."""
    size = world_size()
    if size == 1:
        return rows
    parts: list[np.ndarray | None] = [None] * size
    dist.all_gather_object(parts, rows)
    out = np.empty((sum(len(p) for p in parts), *rows.shape[1:]), rows.dtype)
    for index, part in enumerate(parts):
        out[index::size] = part
    return out
