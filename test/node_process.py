# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A node (or a launch) run as its own process, as a user runs it, with its output collected."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from helpers import ROOT, wait_for

#: Stops as a user's terminal and launch give them: Ctrl-C in a launch's terminal is two SIGINTs to a node
#: (the terminal's to the process group, then launch's own), and launch escalates to SIGTERM.
STOPS = {"SIGINT twice": (signal.SIGINT, signal.SIGINT), "SIGTERM twice": (signal.SIGTERM, signal.SIGTERM)}


class NodeProcess:
    """``command`` started in a session of its own (so a signal can go to its whole group, like Ctrl-C)."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
            env=env or os.environ.copy(), start_new_session=True)
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def module(cls, module: str, *ros_args: str, env: dict[str, str] | None = None) -> NodeProcess:
        """``python -m module --ros-args ros_args...``."""
        return cls([sys.executable, "-m", module, "--ros-args", *ros_args], env)

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def wait_for_output(self, text: str, timeout: float = 60.0) -> bool:
        return wait_for(lambda: text in self.output or self.process.poll() is not None, timeout) and text in self.output

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for the process to end by itself; its exit status (a failure showing its output if it does not)."""
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"still running {timeout:g} s later: {' '.join(self.process.args)}\n"
                                 f"{self.output[-6000:]}") from exc
        self._reader.join(timeout=5.0)
        return status

    def stop(self, *signals: signal.Signals, group: bool = False, timeout: float = 60.0) -> int:
        """Send ``signals`` (50 ms apart) to the process or its whole group; its exit status."""
        for signum in signals:
            if group:
                os.killpg(self.process.pid, signum)
            else:
                self.process.send_signal(signum)
            time.sleep(0.05)
        return self.finish(timeout)

    def kill(self) -> None:
        """Make sure nothing is left running (cleanup after a failed test)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10.0)
