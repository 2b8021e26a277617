"""Find NVIDIA GPUs through the CUDA driver API, without TensorRT, torch or cuda-python.

``trtforge doctor`` and the build/run decisions need to know whether a GPU exists and its
compute capability; asking ``libcuda`` directly through ctypes costs milliseconds and works
whichever frameworks happen to be installed.
"""
from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass

_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76


@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str
    major: int
    minor: int

    @property
    def sm(self) -> str:
        return f"sm{self.major}{self.minor}"


@dataclass(frozen=True)
class GpuProbe:
    """The GPUs found, or the reason none could be found."""

    gpus: tuple[GpuInfo, ...]
    reason: str = ""

    @property
    def found(self) -> bool:
        return bool(self.gpus)


@functools.lru_cache(maxsize=1)
def probe_gpus() -> GpuProbe:
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return GpuProbe((), "no NVIDIA driver on this machine (libcuda.so.1 not found)")
    status = cuda.cuInit(0)
    if status != 0:
        return GpuProbe((), f"the NVIDIA driver did not initialise (cuInit returned {status})")
    count = ctypes.c_int(0)
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return GpuProbe((), "the NVIDIA driver reports no GPU")
    gpus = []
    for index in range(count.value):
        device = ctypes.c_int(0)
        if cuda.cuDeviceGet(ctypes.byref(device), index) != 0:
            continue
        name = ctypes.create_string_buffer(256)
        cuda.cuDeviceGetName(name, 256, device)
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        cuda.cuDeviceGetAttribute(
            ctypes.byref(major), _CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device
        )
        cuda.cuDeviceGetAttribute(
            ctypes.byref(minor), _CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device
        )
        gpus.append(GpuInfo(index, name.value.decode(errors="replace"), major.value, minor.value))
    return GpuProbe(tuple(gpus), "" if gpus else "no GPU could be queried")
