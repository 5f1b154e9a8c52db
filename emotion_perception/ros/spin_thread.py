# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""An executor spun on a background thread, stopped in the order rclpy needs.

``threading.Thread(target=executor.spin)`` followed by ``executor.shutdown()`` from another thread races:
shutdown destroys the executor's guard condition while the spinning thread may be entering a wait that
uses it, and that thread dies with ``'NoneType' object has no attribute 'handle'`` or "cannot use
Destroyable"; and a callback a ``MultiThreadedExecutor`` has queued on its thread pool that runs after
the shutdown fails on that destroyed guard condition ("The following exception was never retrieved:
cannot use Destroyable"). :class:`SpinThread` ends its own loop, lets the queued callbacks finish, then
shuts the executor down.
"""

from __future__ import annotations

import threading
import time

from rclpy.executors import Executor, ExternalShutdownException, ShutdownException


class SpinThread:
    """Spins ``executor`` on a daemon thread from construction until :meth:`stop`."""

    def __init__(self, executor: Executor, name: str = "spin") -> None:
        self.executor = executor
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set() and self.executor.context.ok():
                self.executor.spin_once()
        except (ExternalShutdownException, ShutdownException):
            pass  # the context (Ctrl-C) or the executor was shut down meanwhile
        except Exception:
            if self.executor.context.ok():
                raise

    def is_alive(self) -> bool:
        """False once the loop has ended: stopped, shut down, or a callback raised (its traceback is printed)."""
        return self._thread.is_alive()

    def stop(self, timeout_sec: float = 5.0) -> bool:
        """End the loop, then shut the executor down; False if either took longer than ``timeout_sec``."""
        deadline = time.monotonic() + timeout_sec
        self._stopping.set()
        self.executor.wake()  # ends the wait in progress
        self._thread.join(timeout=timeout_sec)
        # rclpy has no public call for the callbacks a MultiThreadedExecutor has queued; it keeps them here.
        queued = getattr(self.executor, "_futures", ())
        while any(not task.done() for task in list(queued)) and time.monotonic() < deadline:
            time.sleep(0.002)
        return self.executor.shutdown(timeout_sec=timeout_sec) and not self._thread.is_alive()
