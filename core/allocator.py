"""How the process's C allocator (glibc malloc) keeps the memory Python frees.

glibc serves a request of at least its mmap threshold (128 KiB at start) with a mapping of its own,
given back when freed; below it, from its heaps, which keep freed memory for later. The threshold
moves up to the size of each such block freed, up to 32 MiB: once the inserter has freed a 24 MiB
INSERT, every request body, segment slice and converted block under 24 MiB comes from the heaps,
which the traffic leaves fragmented. Under a log flood the collector's RSS then carried 100-200 MiB
freed by Python (peak 854-1,045 MiB; 224-371 MiB of anonymous memory after the burst, where
ClickHouse accounted for ~30). A fixed threshold of 4 MiB keeps the large buffers on mappings of
their own (peak 836-876 MiB, ~220 MiB after) with records/s within the noise; 256 KiB lowered the
peak as much but cost ~5 % of the records/s (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)
MMAP_THRESHOLD_BYTES = 4 * 1024**2
# glibc's own environment variables for the same: an operator's value wins.
_OPERATOR_SET = ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold at `threshold` bytes for this process. False when the C library is
    not glibc (nothing to do) or the operator configured malloc through the environment."""
    if any(name in os.environ for name in _OPERATOR_SET):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))
