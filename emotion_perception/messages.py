"""Core types to and from emotion_msgs: the only module where the core and ROS messages meet."""

from __future__ import annotations

from collections.abc import Iterable

from sensor_msgs.msg import RegionOfInterest
from std_msgs.msg import Header

from emotion_msgs.msg import EmotionReaction, EmotionReactionArray
from emotion_perception.reaction import FaceReaction


def reaction_to_msg(reaction: FaceReaction, header: Header) -> EmotionReaction:
    """One face's reaction as an ``EmotionReaction`` carrying the source frame's ``header``."""
    x, y, w, h = reaction.box
    msg = EmotionReaction()
    msg.header = header
    msg.valence = int(reaction.valence)
    msg.confidence = float(reaction.confidence)
    msg.probabilities = [float(p) for p in reaction.probabilities]
    msg.valence_score = float(reaction.valence_score)
    msg.face = RegionOfInterest(x_offset=max(x, 0), y_offset=max(y, 0), width=max(w, 0), height=max(h, 0))
    msg.detection_confidence = float(reaction.detection_confidence)
    msg.face_id = reaction.face_id
    return msg


def reactions_to_array(reactions: Iterable[FaceReaction], header: Header) -> EmotionReactionArray:
    """Every reaction of one frame (possibly none) as an ``EmotionReactionArray``."""
    return EmotionReactionArray(header=header, reactions=[reaction_to_msg(r, header) for r in reactions])
