"""Serving the app and timing it, for the browser tests and the benchmarks alike: Debian's Chromium and its
switches, the app started on a free port, the script that records when a page has finished, and readings of a
process's CPU time and peak memory. Unlike tests/conftest.py this module sets nothing in the environment, so a
benchmark importing it runs the app as a user gets it (conftest turns on the tests' chart schema check and their
fixed perturbation key)."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Debian's Chromium (or the one named by CHROMIUM) and the switches every browser test starts it with.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM) in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def nearest_rank(values: list[float], q: float) -> float:
    """The q-th quantile (0 to 1) of values by nearest rank: the tests' and benchmarks' p50 and p95."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(
    warehouse: Path,
    log: Path | None = None,
    cpus: set[int] | None = None,
    data: Path | None = None,
    start_s: float = 60,
    script: Path = ROOT / "app.py",
):
    """`streamlit run app.py` on the extract `data` (default the bundled one) and the given warehouse, on a
    free port: yields its URL and process once it answers its health check (within `start_s`), and stops
    it afterwards. Its output goes to `log`, or nowhere. `cpus` pins the server to those processor cores
    (Linux), so browsers on the other cores cannot starve it. `script` serves another Streamlit script
    instead, run from its own folder (benchmarks.browser_floor's empty page). Used by the browser tests and
    by benchmarks.national and benchmarks.browser_floor."""
    env = {**os.environ, "PHB_WAREHOUSE": str(warehouse)}
    env.pop("PHB_DATA", None)
    if data is not None:
        env["PHB_DATA"] = str(data)
    port = free_port()
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(log.open("w")) if log else subprocess.DEVNULL
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                script.name,
                "--server.headless=true",
                f"--server.port={port}",
                "--browser.gatherUsageStats=false",
            ],
            cwd=script.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + start_s
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            proc.terminate()
            raise RuntimeError(f"the app did not start within {start_s:.0f} s")
        try:
            yield url, proc
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def watch_script(need_chart: bool = True) -> str:
    """A script for each page (add_init_script) that records in the page itself the first moment the app has
    finished its run with a title and, if `need_chart`, at least one drawn chart, or shows an error: so each
    session's time is its own however the test polls (tests/test_load.py, benchmarks.national)."""
    return """
window.__phb = {done: null, failed: null};
const needChart = %s;
setInterval(() => {
  if (window.__phb.done !== null) return;
  const app = document.querySelector('[data-testid="stApp"]');
  const failed = document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]');
  if (failed) { window.__phb.failed = failed.innerText.slice(0, 300); window.__phb.done = performance.now(); return; }
  const drawn = document.querySelectorAll(
    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').length;
  if (app && app.getAttribute('data-test-script-state') === 'notRunning'
      && !document.querySelector('[data-testid="stStatusWidget"]')
      && document.querySelector('h1') && (drawn >= 1 || !needChart)) {
    window.__phb.done = performance.now();
  }
}, 100);
""" % ("true" if need_chart else "false")
