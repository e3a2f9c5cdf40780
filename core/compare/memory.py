"""Peak memory of the tensors a piece of code allocates, on any device, CPU included.

CUDA has an allocator that counts (``torch.cuda.max_memory_allocated``); the CPU has
none, and the process's resident size is shared with everything else in it (a
Streamlit server holds many sessions). ``PeakTensorMemory`` watches every tensor the
code creates through PyTorch's dispatcher, counts each storage once, and forgets it
when the last tensor on it is freed.
"""

from __future__ import annotations

import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class PeakTensorMemory(TorchDispatchMode):
    """Within ``with PeakTensorMemory() as memory:``, ``memory.peak_bytes`` is the most bytes that
    tensors created inside were holding at any one time (inputs made before are not counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.current_bytes = 0
        self.peak_bytes = 0
        self._live: dict[int, list[int]] = {}  # storage address -> [bytes, tensors alive on it]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        output = func(*args, **(kwargs or {}))
        inputs = {_address(v) for v in tree_flatten((args, kwargs))[0] if isinstance(v, torch.Tensor)}
        for value in tree_flatten(output)[0]:
            if isinstance(value, torch.Tensor):
                self._count(value, inputs)
        return output

    def _count(self, tensor: torch.Tensor, input_addresses: set[int]) -> None:
        address = _address(tensor)
        entry = self._live.get(address)
        if not address or (entry is None and address in input_addresses):
            return  # a view of, or in-place on, memory allocated before we started
        if entry is None:
            storage = tensor.untyped_storage()
            entry = self._live[address] = [storage.nbytes(), 0]
            self.current_bytes += entry[0]
            self.peak_bytes = max(self.peak_bytes, self.current_bytes)
        entry[1] += 1
        weakref.finalize(tensor, self._release, address)

    def _release(self, address: int) -> None:
        entry = self._live.get(address)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del self._live[address]
            self.current_bytes -= entry[0]

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20


def _address(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()
