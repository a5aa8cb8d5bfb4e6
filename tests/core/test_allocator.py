"""core.allocator against the real C library, in fresh processes: large buffers Python frees are
given back to the system once glibc's mmap threshold is fixed, and kept by its heap otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# As the collector does: one large buffer freed (an INSERT), then many of a few MiB (request bodies,
# segment slices) with small long-lived allocations between them; all the large ones freed. Prints
# the anonymous memory (MiB) the process still holds for them.
_SCRIPT = """
import sys
from core.allocator import fix_mmap_threshold

def anon_mib():
    with open("/proc/self/status") as status:
        return int(status.read().split("RssAnon:")[1].split()[0]) // 1024

if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
elif sys.argv[1] == "operator":
    assert not fix_mmap_threshold()
insert = b"i" * (24 * 1024**2)
del insert
before = anon_mib()
buffers, kept = [], []
for n in range(60):
    buffers.append(b"b" * (5 * 1024**2))
    kept.append(b"k" * 20000)
del buffers
print(anon_mib() - before)
"""


def _retained_mib(mode: str, **env: str) -> int:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={**os.environ, **env})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_large_buffers_are_given_back_once_the_mmap_threshold_is_fixed():
    # The finding (a log flood's peak RSS over 1 GiB): glibc's heap keeps 300 MiB of freed buffers.
    assert _retained_mib("default") > 200
    assert _retained_mib("fixed") < 30


def test_an_operators_malloc_settings_are_left_alone():
    assert _retained_mib("operator", MALLOC_MMAP_THRESHOLD_="131072") < 30  # glibc applied the operator's
