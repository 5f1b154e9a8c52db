# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Feeding the action-feedback node under test: a scripted planner and reaction stream, verdicts recorded."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

from rclpy.qos import QoSProfile, ReliabilityPolicy

from emotion_msgs.msg import ActionFeedback, EmotionReaction, RobotAction
from harness.reliability.common import (
    DiagnosticsRecorder,
    Driver,
    NodeProcess,
    Recorder,
    Stamper,
    stamp,
    wait_ready,
)

NODE_NAME = "action_feedback_node"
#: Short windows so that verdicts come within a second of the action (restart rounds, quick runs).
SHORT_WINDOWS: dict[str, float] = {
    "baseline_window": 0.5, "response_delay": 0.1, "response_end": 0.6, "max_response_window": 1.0,
    "lateness_grace": 0.1,
}
ACTION_QOS = QoSProfile(depth=500, reliability=ReliabilityPolicy.RELIABLE)
REACTION_QOS = QoSProfile(depth=5000, reliability=ReliabilityPolicy.RELIABLE)


class Planner:
    """Publishes actions and reactions to the node under test and records its verdicts and diagnostics."""

    def __init__(self, driver: Driver, seed: int = 0) -> None:
        node = driver.node
        self.rng = random.Random(seed)
        self.stamper = Stamper()
        self.action_pub = node.create_publisher(RobotAction, "robot/action", ACTION_QOS)
        self.reaction_pub = node.create_publisher(EmotionReaction, "human/reaction", REACTION_QOS)
        self.verdicts = Recorder(node, ActionFeedback, "human/action_feedback")
        self.diagnostics = DiagnosticsRecorder(node, NODE_NAME)
        self.actions_sent: dict[str, float] = {}  # action id -> monotonic publish time
        self.reactions_sent = 0

    def connected(self) -> bool:
        return (self.action_pub.get_subscription_count() > 0 and self.reaction_pub.get_subscription_count() > 0
                and self.verdicts.subscription.get_publisher_count() > 0)

    def start_node(self, log_dir: Path, label: str, params: dict[str, object], timeout: float = 60.0) -> NodeProcess:
        """Start the node and wait until it talks (a diagnostics message of the new process, then matched)."""
        since = time.monotonic()
        process = NodeProcess(NODE_NAME, label, log_dir, params)
        if not wait_ready(process, lambda: self.connected() and bool(self.diagnostics.statuses(since)), timeout):
            process.stop()
            raise RuntimeError(f"{label} did not start in {timeout} s (exit {process.proc.returncode}); see "
                               f"{process.log_path}:\n{process.output()[-2000:]}")
        time.sleep(0.3)  # the last endpoints of the new process match within a few ms of its diagnostics
        return process

    def publish_reaction(self, face: int) -> None:
        valence = self.rng.choice((-1, 0, 1))
        score = valence * self.rng.uniform(0.3, 1.0) if valence else self.rng.uniform(-0.2, 0.2)
        msg = EmotionReaction(valence=valence, confidence=self.rng.uniform(0.5, 1.0), valence_score=score,
                              detection_confidence=0.9, face_id=f"face_{face}")
        msg.header.stamp = stamp(self.stamper.next_ns())
        msg.header.frame_id = "camera_optical_frame"
        self.reaction_pub.publish(msg)
        self.reactions_sent += 1

    def publish_action(self, action_id: str) -> None:
        msg = RobotAction(action_id=action_id, name=self.rng.choice(("wave", "joke", "offer_help")))
        msg.header.stamp = stamp(self.stamper.next_ns())
        self.action_pub.publish(msg)
        self.actions_sent[action_id] = time.monotonic()

    def stream(self, seconds: float, reaction_rate: float, action_rate: float, prefix: str, faces: int = 3,
               tick: float = 0.01) -> None:
        """Publish reactions and actions at the given rates (per s) for ``seconds``, paced in ``tick`` s steps."""
        t0 = time.monotonic()
        reactions = actions = 0
        while (now := time.monotonic()) - t0 < seconds:
            elapsed = now - t0
            while reactions < reaction_rate * elapsed:
                self.publish_reaction(reactions % faces)
                reactions += 1
            while actions < action_rate * elapsed:
                self.publish_action(f"{prefix}-{actions}")
                actions += 1
            time.sleep(max(0.0, tick - (time.monotonic() - now)))

    def verdict_ids(self) -> list[str]:
        return [msg.action_id for _, msg in self.verdicts.snapshot()]


def database_ids(path: Path) -> list[str]:
    """Every action id recorded in the stats database, read-only (the node may be running)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT action_id FROM verdicts ORDER BY id")]
    finally:
        conn.close()


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the database ("ok" when healthy), read-only."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
