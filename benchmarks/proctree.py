"""CPU time and peak memory of a command and of every process it starts.

``getrusage(RUSAGE_CHILDREN)`` only counts processes that were waited for, all the way
down. guidegen's workers are started by a fork server (``max_tasks_per_child``), which may
outlive the batch by a moment and is not waited for by it: their CPU and memory would be
missing. So this samples ``/proc`` instead, every ``interval`` seconds, for the command's
process and all its descendants (a process once seen is followed even after it is
re-parented): each one's last ``utime + stime`` and its ``VmHWM`` (peak resident set).
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Tree:
    root: int
    cpu: dict = field(default_factory=dict)  # (pid, start time) -> CPU seconds, last seen
    hwm: dict = field(default_factory=dict)  # (pid, start time) -> peak RSS in MB

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def peak_rss_mb(self, include_root: bool = False) -> float:
        return max((v for (pid, _), v in self.hwm.items()
                    if include_root or pid != self.root), default=0.0)


def _stat(pid: int) -> tuple[int, str, float] | None:
    """(parent pid, start time, CPU seconds) of a live process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[19], (int(fields[11]) + int(fields[12])) / TICK


def _hwm(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def sample(tree: Tree, followed: set) -> None:
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                stats[int(name)] = st
    changed = True
    while changed:  # descendants of the root, and of anything followed before
        changed = False
        for pid, (ppid, start, _cpu) in stats.items():
            if (pid, start) not in followed and (
                    pid == tree.root or any(p == ppid for p, _ in followed)):
                followed.add((pid, start))
                changed = True
    for pid, start in list(followed):
        st = stats.get(pid)
        if st is None or st[1] != start:
            continue  # gone (its last sample stays)
        tree.cpu[(pid, start)] = st[2]
        hwm = _hwm(pid)
        if hwm is not None:
            tree.hwm[(pid, start)] = max(hwm, tree.hwm.get((pid, start), 0.0))


def run(cmd: list[str], interval: float = 0.1, **kwargs) -> tuple[subprocess.CompletedProcess,
                                                                  Tree]:
    """Run ``cmd`` (``subprocess.Popen`` keyword arguments) to its end, sampling its tree."""
    proc = subprocess.Popen(cmd, **kwargs)
    tree, followed = Tree(proc.pid), set()
    while proc.poll() is None:
        sample(tree, followed)
        time.sleep(interval)
    out, err = proc.communicate()
    deadline = time.time() + 3  # workers and the fork server finish after the batch exits
    while time.time() < deadline and any(_stat(p) and _stat(p)[1] == s for p, s in followed
                                         if p != proc.pid):
        sample(tree, followed)
        time.sleep(interval)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), tree
