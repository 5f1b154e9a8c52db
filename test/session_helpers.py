# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A session of real reactions for the session tests: the real model on the real face fixtures, 10 frames/s."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
from builtin_interfaces.msg import Time
from rclpy.serialization import serialize_message
from std_msgs.msg import Header

from emotion_msgs.msg import ActionFeedback, RobotAction
from emotion_perception.reaction import FaceReaction
from emotion_perception.ros.messages import reaction_to_msg, reactions_to_array
from emotion_perception.tools.session.session_file import SessionWriter
from emotion_perception.vision.recognizer import EmotionRecognizer

DATA = Path(__file__).parent / "data"
START_NS = 1_700_000_000 * 1_000_000_000
FRAME_NS = 100_000_000
#: (first frame, last frame, fixture): crying, then laughing, then nobody (at 10 frames/s).
SCRIPT = ((0, 40, ("pexels_sad_030.jpg", "pexels_sad_045.jpg")),
          (40, 90, ("pexels_happy_330.jpg", "pexels_happy_360.jpg")),
          (90, 130, ("pexels_no_face.jpg",)))
#: (frame, action name): she starts laughing 1 s after the joke; the wave comes while she laughs on;
#: the last action comes when nobody is left.
ACTIONS = ((30, "tell_joke"), (65, "wave"), (100, "offer_tissue"))
EXPECTED = {"tell_joke": "WELL_RECEIVED", "wave": "NEUTRAL", "offer_tissue": "UNKNOWN"}
SESSION_TOPICS = {"/human/reaction": "emotion_msgs/msg/EmotionReaction",
                  "/human/reactions": "emotion_msgs/msg/EmotionReactionArray",
                  "/robot/action": "emotion_msgs/msg/RobotAction"}


def stamp(frame: int) -> Time:
    sec, nanosec = divmod(START_NS + frame * FRAME_NS, 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


@cache
def real_reactions() -> tuple[tuple[FaceReaction, ...], ...]:
    """The plain API's reactions of each frame of :data:`SCRIPT` (one recognizer, so face ids are tracked)."""
    recognizer = EmotionRecognizer()
    images = {}
    frames = []
    for first, last, names in SCRIPT:
        for frame in range(first, last):
            name = names[frame % len(names)]
            image = images.setdefault(name, cv2.imread(str(DATA / name)))
            frames.append(tuple(recognizer.run(image)))
    return tuple(frames)


def write_session(path: Path, verdicts: dict[str, int] | None = None, per_face: bool = True) -> Path:
    """A session file of the script's reactions (per frame, and per face unless ``per_face`` is False) and
    actions, recorded at their stamps, and ``verdicts`` (action name -> ActionFeedback verdict) as if the
    node had published them."""
    writer = SessionWriter(path)
    for topic, type_name in SESSION_TOPICS.items():
        if per_face or topic != "/human/reaction":
            writer.add_topic(topic, type_name)
    if verdicts:
        writer.add_topic("/human/action_feedback", "emotion_msgs/msg/ActionFeedback")
    actions = dict(ACTIONS)
    for frame, reactions in enumerate(real_reactions()):
        header = Header(stamp=stamp(frame), frame_id="camera_optical_frame")
        t = START_NS + frame * FRAME_NS
        if frame in actions:
            action = RobotAction(header=Header(stamp=stamp(frame)), action_id=f"{actions[frame]}-{frame}",
                                 name=actions[frame])
            writer.write("/robot/action", serialize_message(action), t)
        for reaction in reactions if per_face else ():
            writer.write("/human/reaction", serialize_message(reaction_to_msg(reaction, header)), t + 1)
        writer.write("/human/reactions", serialize_message(reactions_to_array(reactions, header)), t + 2)
    for frame, name in ACTIONS if verdicts else ():
        feedback = ActionFeedback(action_id=f"{name}-{frame}", name=name, verdict=verdicts[name], delta=float("nan"))
        writer.write("/human/action_feedback", serialize_message(feedback), START_NS + 200 * FRAME_NS)
    writer.close()
    return path
