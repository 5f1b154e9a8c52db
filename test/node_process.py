# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A node (or a launch) run as its own process, as a user runs it, with its output collected.

Every process starts in a session of its own, so a signal reaches its whole group as Ctrl-C in a terminal
does, and, where util-linux's ``setpriv`` is installed, it gets SIGTERM when the test process dies (a launch
then stops its nodes), so not even a killed pytest leaves one running. ``conftest.py`` ends every process a
test started when that test ends, every one left at the end of the session, and adds the last lines of each
one's output to a failing test's report. :meth:`NodeProcess.expect` waits for a line and fails at once, with
the node's FATAL line and its own last lines, when the process ends or a node a launch started dies.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from typing import ClassVar

from helpers import ROOT, wait_for

#: Stops as a user's terminal and launch give them: Ctrl-C in a launch's terminal is two SIGINTs to a node
#: (the terminal's to the process group, then launch's own), and launch escalates to SIGTERM.
STOPS = {"SIGINT twice": (signal.SIGINT, signal.SIGINT), "SIGTERM twice": (signal.SIGTERM, signal.SIGTERM)}
#: The child gets SIGTERM when the thread that started it (pytest's main thread) ends, however it ends.
PARENT_DEATH = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
#: A line a node logs at FATAL: directly, or prefixed by launch with ``[<node>-<n>] ``.
FATAL = re.compile(r"^(?:\[(?P<label>[\w.]+-\d+)\] )?.*\[FATAL\]")
#: launch's line for a node process that ended on its own.
DIED = re.compile(r"\[ERROR\] \[(?P<label>[\w.]+-\d+)\]: process has died")
TAIL_LINES = 30
KILL_GRACE_S = 3.0


class NodeFailedError(AssertionError):
    """The process, or a node it launched, died or logged FATAL; or a line it should print never came."""


def _node_name(label: str) -> str:
    """``perception_node`` of launch's label ``perception_node-2``."""
    return label.rsplit("-", 1)[0]


class NodeProcess:
    """``command`` started in a session of its own, its output (stdout and stderr) read as it comes."""

    started: ClassVar[list[NodeProcess]] = []  # every instance, in start order (conftest ends them)

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command = command
        self.process = subprocess.Popen(
            [*PARENT_DEATH, *command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
            env=env or os.environ.copy(), start_new_session=True)
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        NodeProcess.started.append(self)

    @classmethod
    def module(cls, module: str, *ros_args: str, env: dict[str, str] | None = None) -> NodeProcess:
        """``python -m module --ros-args ros_args...``."""
        return cls([sys.executable, "-m", module, "--ros-args", *ros_args], env)

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def tail(self, label: str | None = None, lines: int = TAIL_LINES) -> str:
        """The last ``lines`` lines of the output; with a launch ``label`` (``perception_node-2``), that node's own."""
        own = [line for line in list(self._lines) if label is None or line.startswith(f"[{label}]")]
        return "".join(own[-lines:])

    def describe(self) -> str:
        """The command, whether it runs, and its last lines (for a failure message or report)."""
        status = self.process.poll()
        state = "running" if status is None else f"exit status {status}"
        return f"$ {' '.join(self.command)}  ({state}, pid {self.process.pid})\n{self.tail()}"

    def failure(self, may_die: Collection[str] = ()) -> str | None:
        """Why this process cannot get where a test waits for it, or None: it ended, or it or a node it launched (other
        than those named in ``may_die``) logged FATAL or died. The reason carries the FATAL line and that node's own
        last lines."""
        lines = list(self._lines)
        for pattern in (FATAL, DIED):
            for line in lines:
                found = pattern.search(line)
                if found and not (found["label"] and _node_name(found["label"]) in may_die):
                    whose = f"{_node_name(found['label'])}'s" if found["label"] else "its"
                    return f"{line.strip()}\n--- {whose} last lines ---\n{self.tail(found['label'])}"
        status = self.process.poll()
        if status is not None:
            return f"exited with status {status}\n--- its last lines ---\n{self.tail()}"
        return None

    def expect(self, text: str, timeout: float = 60.0, may_die: Collection[str] = ()) -> None:
        """Wait until ``text`` appears in the output; raise :class:`NodeFailedError` at once when :meth:`failure` has a
        reason (``may_die``: node names a launch may lose), and after ``timeout`` seconds without it."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            reason = self.failure(may_die)
            if reason is not None:
                raise NodeFailedError(f"waiting for {text!r} from {' '.join(self.command)}: {reason}")
            if time.monotonic() > deadline:
                raise NodeFailedError(f"no {text!r} within {timeout:g} s from {' '.join(self.command)}\n{self.tail()}")
            time.sleep(0.05)

    def wait_for_output(self, text: str, timeout: float = 60.0) -> bool:
        return wait_for(lambda: text in self.output or self.process.poll() is not None, timeout) and text in self.output

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for the process to end by itself; its exit status (a failure showing its output if it does not)."""
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"still running {timeout:g} s later: {' '.join(self.command)}\n"
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
        """End the whole process group, whatever state it is in: SIGTERM, then SIGKILL after KILL_GRACE_S."""
        for signum in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                break  # nothing of the group is left
            if wait_for(lambda: not self.group_alive(), KILL_GRACE_S):
                break
        if self.process.poll() is None:
            self.process.wait(timeout=10.0)
        self._reader.join(timeout=5.0)

    def group_alive(self) -> bool:
        """Whether a process of the group still runs (this one is reaped once it ended; zombies count as ended)."""
        self.process.poll()
        return _group_members(self.process.pid) != []


def _group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes in process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members
