"""CPU seconds spent by the processes a benchmark drives, read from ``/proc`` (Linux).

A throughput figure on a shared machine mixes the server's cost with whatever else ran; the
CPU seconds of the server's own processes do not.  :class:`CpuMeter` samples groups of
processes — the app nodes (each gunicorn master and its workers), PostgreSQL (every process
named ``postgres``) and the benchmark's own process (the load generator) — before and after
the timed part and reports each group's CPU seconds in between:

* a process alive at both samples counts ``(utime + stime)`` after minus before;
* a process that appeared in between counts its whole ``utime + stime`` (it started inside
  the window);
* a process that exited in between counts through its parent's ``cutime + cstime`` once
  the parent has reaped it (the PostgreSQL postmaster reaps its backends).

Processes are told apart by ``(pid, start time)``, so a reused pid is a new process.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` a meter needs (CPU in seconds)."""

    pid: int
    ppid: int
    comm: str
    start: int  # clock ticks after boot: with the pid, names one process
    own_s: float  # utime + stime
    children_s: float  # cutime + cstime: reaped children


def read_stat(pid: int, proc: Path = PROC) -> ProcStat | None:
    """One process's ``stat`` line, or ``None`` when it is gone (or unreadable)."""
    try:
        text = (proc / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ")"
    left, _, right = text.rpartition(")")
    comm = left.partition("(")[2]
    fields = right.split()
    try:
        # fields[0] is field 3 (state) of proc(5): utime 14, stime 15, cutime 16, cstime 17,
        # starttime 22
        return ProcStat(pid=pid, ppid=int(fields[1]), comm=comm, start=int(fields[19]),
                        own_s=(int(fields[11]) + int(fields[12])) / TICKS,
                        children_s=(int(fields[13]) + int(fields[14])) / TICKS)
    except (IndexError, ValueError):
        return None


def all_stats(proc: Path = PROC) -> list[ProcStat]:
    out = []
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name), proc)
            if stat is not None:
                out.append(stat)
    return out


def tree(roots: Iterable[int], stats: Iterable[ProcStat]) -> list[ProcStat]:
    """The processes ``roots`` and all their descendants."""
    stats = list(stats)
    children: dict[int, list[ProcStat]] = {}
    by_pid = {s.pid: s for s in stats}
    for s in stats:
        children.setdefault(s.ppid, []).append(s)
    out: list[ProcStat] = []
    todo = [by_pid[r] for r in roots if r in by_pid]
    while todo:
        s = todo.pop()
        out.append(s)
        todo.extend(children.get(s.pid, ()))
    return out


def named(comm: str) -> Callable[[list[ProcStat]], list[ProcStat]]:
    """A group selector: every process whose command name is ``comm``."""
    return lambda stats: [s for s in stats if s.comm == comm]


def descendants_of(roots: Callable[[], Iterable[int]]) -> Callable[[list[ProcStat]], list[ProcStat]]:
    """A group selector: the processes ``roots()`` (evaluated at each sample) and their
    descendants."""
    return lambda stats: tree(roots(), stats)


Sample = dict[str, dict[tuple[int, int], ProcStat]]


class CpuMeter:
    """CPU seconds per group of processes between :meth:`start` and :meth:`stop`.

    ``groups`` maps a name to a selector of processes; the benchmark's own process is the
    group ``"self"`` (``getrusage``: every thread of it, the load generator's included).
    """

    def __init__(self, groups: Mapping[str, Callable[[list[ProcStat]], list[ProcStat]]],
                 proc: Path = PROC) -> None:
        self.groups = dict(groups)
        self.proc = proc
        self._before: Sample = {}
        self._self_before = 0.0

    def _sample(self) -> Sample:
        stats = all_stats(self.proc)
        return {name: {(s.pid, s.start): s for s in select(stats)}
                for name, select in self.groups.items()}

    @staticmethod
    def _self_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def start(self) -> None:
        self._before = self._sample()
        self._self_before = self._self_cpu()

    def stop(self) -> dict[str, float]:
        """CPU seconds of each group since :meth:`start` (and ``"self"``)."""
        after = self._sample()
        out = {"self": self._self_cpu() - self._self_before}
        for name, now in after.items():
            before = self._before.get(name, {})
            total = 0.0
            for key, s in now.items():
                old = before.get(key)
                total += s.own_s - (old.own_s if old else 0.0)
                total += s.children_s - (old.children_s if old else 0.0)
            out[name] = max(0.0, total)
        return out


def figures(spent: Mapping[str, float], accepted: int, floor: float, unit: str) -> dict[str, Any]:
    """CPU per accepted request (``unit``: ``cast``, ``signature``) by group, in ms and in
    floor exponentiations (``floor`` = floor operations per CPU-second of one process), and
    the rate the machine's cores would reach at that cost if nothing else ran.

    Groups: ``server`` (the app nodes), ``database`` (PostgreSQL), ``load_generator`` (this
    process).  The ``server_side`` total leaves the load generator out: real voters' devices
    send the requests.
    """
    if not accepted:
        return {f"cpu_ms_per_{unit}": None}
    groups = {"server": spent.get("nodes", 0.0), "database": spent.get("database", 0.0),
              "load_generator": spent.get("self", 0.0)}
    total = sum(groups.values())
    server_side = total - groups["load_generator"]
    cores = os.cpu_count() or 1
    return {
        f"cpu_ms_per_{unit}": {k: round(v / accepted * 1000, 2) for k, v in groups.items()},
        f"cpu_floor_per_{unit}": {k: round(v / accepted * floor, 3) for k, v in groups.items()},
        f"cpu_floor_per_{unit}_total": round(total / accepted * floor, 3),
        f"cpu_floor_per_{unit}_server_side": round(server_side / accepted * floor, 3),
        "cores": cores,
        f"{unit}s_per_s_if_cores_busy": round(cores * accepted / total, 1) if total else None,
    }


def describe(res: Mapping[str, Any], unit: str) -> Iterator[str]:
    """The lines ``saylau bench cast|sign`` print for :func:`figures` (and the connections)."""
    per = res.get(f"cpu_ms_per_{unit}")
    if per:
        parts = ", ".join(f"{k.replace('_', ' ')} {v} ms" for k, v in per.items())
        yield (f"  CPU per {unit}: {parts}; {res[f'cpu_floor_per_{unit}_total']} floor in all, "
               f"{res[f'cpu_floor_per_{unit}_server_side']} server side (app + database); "
               f"{res[f'{unit}s_per_s_if_cores_busy']} {unit}s/s if all {res['cores']} cores "
               "were busy")
    if res.get("database_sessions_opened") is not None:
        yield f"  PostgreSQL connections opened during the timed part: {res['database_sessions_opened']}"
