# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Single key presses from a terminal's stdin, without waiting for Enter (POSIX termios, no ROS)."""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from typing import TextIO


class KeyReader:
    """Context manager that puts the terminal in cbreak mode; :meth:`poll` returns a pressed key or None.

    Outside a terminal (stdin is a pipe or a file) it reads nothing and ``interactive`` is False.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdin
        self.interactive = self._stream.isatty()
        self._saved: list | None = None

    def __enter__(self) -> KeyReader:
        if self.interactive:
            fd = self._stream.fileno()
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            termios.tcsetattr(self._stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None

    def poll(self, timeout: float = 0.0) -> str | None:
        """The next key pressed (lower case), waiting at most ``timeout`` seconds; None if none."""
        if not self.interactive:
            return None
        ready, _, _ = select.select([self._stream], [], [], timeout)
        if not ready:
            return None
        data = os.read(self._stream.fileno(), 1)
        return data.decode(errors="ignore").lower() or None
