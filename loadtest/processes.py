"""The processes of the load test's deployment, each stopped with all its children however
the run ends: a normal end, an exception, Ctrl-C or SIGTERM (the harness turns it into an
exit), and even the harness being killed outright (each is told by the kernel)."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_TIMEOUT = 15.0
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stopped_with_the_harness() -> None:
    """In the child before it runs its program: SIGTERM it when the harness dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Processes:
    """Started processes, each in a session of its own (its children with it), stopped in
    reverse order on leaving the `with` block."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen]] = []

    def __enter__(self) -> "Processes":
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        return self

    def __exit__(self, *_exc) -> None:
        for name, process in reversed(self.running):
            _stop(name, process)
        self.running.clear()

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - the venv's own programs, fixed arguments
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_stopped_with_the_harness,
        )
        log.close()
        self.running.append((name, process))
        return process

    def run(self, name: str, command: list[str], env: dict[str, str], timeout: float) -> int:
        """Start, wait until it ends (killed after `timeout`), return its exit status."""
        process = self.start(name, command, env)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(name, process)
            return process.returncode
        finally:
            self.running.remove((name, process))

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _exit_on_sigterm(signum, _frame) -> None:
    sys.exit(128 + signum)  # unwinds through every `with`, which stops the processes


def _stop(name: str, process: subprocess.Popen) -> None:
    """SIGTERM to the process group (a warm shutdown), SIGKILL if it is still there after
    STOP_TIMEOUT; either way nothing of it is left."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    _signal_group(process, signal.SIGKILL)  # its children too, if any outlived it
    process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)
