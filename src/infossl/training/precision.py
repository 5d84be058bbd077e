"""The default numeric precision on a CPU: bf16 autocast where the CPU computes bf16 natively.

Some CPUs have bf16 instructions (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``):
there CPU bf16 autocast was reported to make a convnet step 2.2x faster than float32 (on an
avx512_bf16 machine of this project, by the recipes issue). Elsewhere bf16 is
emulated and slower than float32. ``infossl pretrain`` applies this default when
``trainer.precision`` is not set and the run is on the CPU; the losses keep their batch
statistics in float32 under autocast either way.
"""

from __future__ import annotations

from pathlib import Path

#: /proc/cpuinfo flags of native bf16 arithmetic
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The instruction-set flags of the first CPU in ``cpuinfo`` (empty where it cannot be read)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def default_cpu_precision(flags: set[str] | None = None) -> tuple[str, str]:
    """(Lightning precision, reason): ``bf16-mixed`` where the CPU has a native bf16 flag,
    else ``32-true``."""
    flags = cpu_flags() if flags is None else flags
    native = [flag for flag in NATIVE_BF16_FLAGS if flag in flags]
    if native:
        return "bf16-mixed", f"the CPU computes bf16 natively ({', '.join(native)})"
    return "32-true", f"the CPU has none of {', '.join(NATIVE_BF16_FLAGS)} (bf16 would be emulated, slower than float32)"
