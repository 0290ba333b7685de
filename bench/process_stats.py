"""CPU time and memory of a process, read from /proc (no psutil needed)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU seconds (user + system) a process had used by ``wall`` (monotonic seconds)."""

    cpu_seconds: float
    wall: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and of its reaped children (e.g. forked workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # After the ")" that ends the command name: field 3 is the state, so utime (14) is index 11.
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot, whoever ran: user, nice,
    system, irq and softirq from /proc/stat (idle, iowait and the hypervisor's steal are not busy)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / _CLOCK_TICKS


def sample(pid: int) -> CpuSample:
    """CPU used so far by ``pid`` and its descendants."""
    return CpuSample(tree_cpu_seconds(pid), time.monotonic())


def cores_used(before: CpuSample, after: CpuSample) -> float:
    """Average number of cores busy between two samples."""
    wall = after.wall - before.wall
    return (after.cpu_seconds - before.cpu_seconds) / wall if wall > 0 else 0.0


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants (granian runs its Python worker in a child process)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, ()))
    return found


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in tree_pids(pid):
        try:
            total += cpu_seconds(member)
        except OSError:
            continue
    return total


def tree_rss_bytes(pid: int) -> int:
    total = 0
    for member in tree_pids(pid):
        try:
            total += rss_bytes(member)
        except (OSError, RuntimeError):
            continue
    return total
