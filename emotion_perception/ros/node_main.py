# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The one way every node's process starts, spins and ends (``main()`` of each node calls :func:`run_node`).

Exit status 0 when the node was stopped (SIGINT or SIGTERM, once or repeatedly, at any moment) or ended
on its own; 1 when it could not start (one FATAL line naming the reason, no traceback) or reported a
failure through its ``exit_status`` future. A stop signal ends the spin at once and the node is destroyed
while its context still lives, so what it says on the way out reaches its subscribers (REP-155's
``tracked: []``); the context is shut down after it. rclpy's own signal handlers are not installed: they shut
the context down first. A signal never raises inside the node, so no traceback is printed while it is
cleaned up, and signals are ignored while the interpreter exits. The clean-up itself is bounded: if it has not finished
:data:`TEARDOWN_LIMIT_S` after the spin ended, every thread's stack goes to stderr and the process ends with
status 1, before ``ros2 launch`` would have escalated to SIGKILL (5 s to SIGTERM, 10 s more to SIGKILL).
"""

from __future__ import annotations

import faulthandler
import signal
import socket
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: s the clean-up after the spin may take before the stacks are dumped and the process ends with status 1.
TEARDOWN_LIMIT_S = 10.0


def _ignore(signum: int, frame: object) -> None:
    """Python's part of a stop signal: nothing (its byte on the wakeup socket ends the spin: :class:`StopSignals`)."""


class StopSignals:
    """While open, SIGINT and SIGTERM complete ``stopped`` at once, whatever the main thread is doing.

    Python runs a signal handler only between two bytecodes of the main thread, which may wait in the executor
    for a long time; the C handler's byte on a wakeup socket (:func:`signal.set_wakeup_fd`) wakes a thread of
    its own instead, which completes the future, and the future wakes the executor.
    """

    def __init__(self, stopped: Future) -> None:
        self._stopped = stopped
        self._read, self._write = socket.socketpair()
        self._write.setblocking(False)
        for signum in STOP_SIGNALS:
            signal.signal(signum, _ignore)
        signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="stop_signals", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while data := self._read.recv(64):
            if not self._stopped.done() and any(signum in data for signum in STOP_SIGNALS):
                self._stopped.set_result(0)

    def close(self) -> None:
        """Stop watching; the stop signals stay ignored (the process is ending)."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)  # Python's exit would restore the default (killing) action
        signal.set_wakeup_fd(-1)
        self._write.close()  # the watcher reads the end of the stream and returns
        self._thread.join()
        self._read.close()


def set_up_or_destroy(setup: Callable[[], None], destroy: Callable[[], None]) -> None:
    """Finish a node's construction with ``setup``; if it raises, ``destroy`` the node at once and re-raise.

    Otherwise the half-built node stays in its context until garbage collection, and rclpy's shutdown calls
    its ``destroy_node()``, which may need what ``setup`` never made: a traceback after the FATAL line.
    """
    try:
        setup()
    except BaseException:
        destroy()
        raise


def run_node(make_node: Callable[[], Node], name: str, args: list[str] | None = None,
             startup_errors: tuple[type[BaseException], ...] = (), teardown_limit_s: float = TEARDOWN_LIMIT_S) -> int:
    """Create the node with ``make_node`` and spin it until a stop signal, or until its ``exit_status``.

    A node that can end on its own (or fail while running) has an ``exit_status`` attribute: a
    :class:`rclpy.task.Future` whose result is the exit status. ``startup_errors`` raised by
    ``make_node`` are logged as one FATAL line and give exit status 1. It returns with SIGINT and SIGTERM
    ignored, for the interpreter's exit: it is meant to end its process (a caller that goes on restores them).
    A clean-up (executor, node, context) that outlasts ``teardown_limit_s`` dumps every thread's stack to
    stderr and ends the process with ``os._exit(1)``: faulthandler's watchdog is a native thread, so it fires
    even where the main thread is stuck in C with the GIL held.
    """
    stopped = Future()  # the exit status: 0 from a stop signal, or the node's own exit_status
    signals = StopSignals(stopped)
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except BaseException:
        signals.close()
        raise
    executor = SingleThreadedExecutor()
    node: Node | None = None
    try:
        try:
            node = make_node()
        except startup_errors as exc:
            rclpy.logging.get_logger(name).fatal(f"cannot start: {exc}")
            return 1
        executor.add_node(node)
        exit_status: Future | None = getattr(node, "exit_status", None)
        if exit_status is not None:
            exit_status.add_done_callback(lambda done: stopped.done() or stopped.set_result(done.result()))
        executor.spin_until_future_complete(stopped)
        return stopped.result() if stopped.done() else 0
    except ExternalShutdownException:
        return 0
    except Exception:
        if rclpy.ok():
            raise
        return 0  # a callback or a take that raced a shutdown from elsewhere
    finally:
        faulthandler.dump_traceback_later(teardown_limit_s, exit=True)
        try:
            executor.shutdown(timeout_sec=1.0)
            if node is not None:
                node.destroy_node()
            rclpy.try_shutdown()
        finally:
            faulthandler.cancel_dump_traceback_later()
            signals.close()
