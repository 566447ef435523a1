"""bench/cpu.py: the CPU seconds of the processes a benchmark drives (``/proc``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import cpu

TICKS = cpu.TICKS


def _write(proc: Path, pid: int, ppid: int, comm: str, start: int, utime: int, stime: int,
           cutime: int = 0, cstime: int = 0) -> None:
    # proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime …
    fields = ["S", ppid, 1, 1, 0, -1, 0, 0, 0, 0, 0, utime, stime, cutime, cstime, 20, 0, 1, 0,
              start, 0, 0]
    (proc / str(pid)).mkdir(parents=True, exist_ok=True)
    (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) " + " ".join(map(str, fields)) + "\n")


def test_read_stat_takes_comm_with_spaces_and_parentheses(tmp_path: Path) -> None:
    _write(tmp_path, 42, 7, "a (b) c", 1234, 3 * TICKS, TICKS, 2 * TICKS, 0)
    s = cpu.read_stat(42, tmp_path)
    assert s == cpu.ProcStat(pid=42, ppid=7, comm="a (b) c", start=1234, own_s=4.0,
                             children_s=2.0)
    assert cpu.read_stat(43, tmp_path) is None


def test_the_meter_counts_alive_new_exited_and_reused_processes(tmp_path: Path) -> None:
    _write(tmp_path, 10, 1, "postgres", 100, 5 * TICKS, 0)            # the postmaster
    _write(tmp_path, 11, 10, "postgres", 101, 2 * TICKS, TICKS)       # a backend
    _write(tmp_path, 12, 10, "postgres", 102, TICKS, 0)               # exits in the window
    _write(tmp_path, 20, 1, "gunicorn", 200, 0, 0)                    # a node's master
    _write(tmp_path, 21, 20, "gunicorn", 201, 7 * TICKS, 0)           # its worker; pid reused
    _write(tmp_path, 30, 1, "other", 300, 50 * TICKS, 0)              # not metered
    meter = cpu.CpuMeter({"database": cpu.named("postgres"),
                          "nodes": cpu.descendants_of(lambda: [20])}, proc=tmp_path)
    meter.start()
    _write(tmp_path, 10, 1, "postgres", 100, 6 * TICKS, 0, 3 * TICKS, 0)  # reaped pid 12
    _write(tmp_path, 11, 10, "postgres", 101, 4 * TICKS, TICKS)          # +2 s
    (tmp_path / "12" / "stat").unlink()
    _write(tmp_path, 13, 10, "postgres", 150, TICKS, TICKS)              # new: +2 s
    _write(tmp_path, 21, 20, "gunicorn", 260, 3 * TICKS, 0)              # a new worker: +3 s
    _write(tmp_path, 22, 21, "python", 270, TICKS, 0)                    # its child: +1 s
    _write(tmp_path, 30, 1, "other", 300, 90 * TICKS, 0)
    spent = meter.stop()
    # postmaster +1 own +3 reaped, backend +2, new backend +2
    assert spent["database"] == pytest.approx(8.0)
    assert spent["nodes"] == pytest.approx(4.0)
    assert spent["self"] >= 0.0


def test_the_meter_measures_a_real_busy_child() -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n" \
           "time.sleep(30)\n"
    child = subprocess.Popen([sys.executable, "-c", busy])
    try:
        meter = cpu.CpuMeter({"child": cpu.descendants_of(lambda: [child.pid]),
                              "nobody": cpu.descendants_of(lambda: [])})
        meter.start()
        start = time.monotonic()
        time.sleep(1.5)  # the child burns its 0.4 CPU-s, then sleeps
        spent = meter.stop()
        wall = time.monotonic() - start
    finally:
        child.kill()
        child.wait()
    assert 0.2 <= spent["child"] <= wall
    assert spent["nobody"] == 0.0
    assert spent["self"] < 0.2  # this process only slept


def test_figures_divide_by_accepted_requests() -> None:
    fig = cpu.figures({"nodes": 2.0, "database": 0.5, "self": 0.5}, 100, 40.0, "cast")
    assert fig["cpu_ms_per_cast"] == {"server": 20.0, "database": 5.0, "load_generator": 5.0}
    assert fig["cpu_floor_per_cast"] == {"server": 0.8, "database": 0.2, "load_generator": 0.2}
    assert fig["cpu_floor_per_cast_total"] == pytest.approx(1.2)
    assert fig["cpu_floor_per_cast_server_side"] == pytest.approx(1.0)
    assert fig["casts_per_s_if_cores_busy"] == pytest.approx(fig["cores"] * 100 / 3.0, abs=0.1)
    assert cpu.figures({}, 0, 40.0, "signature") == {"cpu_ms_per_signature": None}
    lines = list(cpu.describe({**fig, "database_sessions_opened": 3}, "cast"))
    assert lines[0].startswith("  CPU per cast: server 20.0 ms, database 5.0 ms, load generator "
                               "5.0 ms; 1.2 floor in all, 1.0 server side")
    assert lines[1] == "  PostgreSQL connections opened during the timed part: 3"
