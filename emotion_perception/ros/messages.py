# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Core types to and from emotion_msgs: the only module where the core and ROS messages meet."""

from __future__ import annotations

from collections.abc import Iterable

from builtin_interfaces.msg import Time
from sensor_msgs.msg import RegionOfInterest
from std_msgs.msg import Header

from emotion_msgs.msg import ActionFeedback, ActionStats, EmotionReaction, EmotionReactionArray, RobotAction
from emotion_perception.feedback.rule import NS_PER_S, Action, ActionVerdict, TimedReaction
from emotion_perception.feedback.stats_store import ActionStatsRow
from emotion_perception.reaction import FaceReaction, Valence


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


def reaction_from_msg(msg: EmotionReaction) -> FaceReaction:
    """The core view of an ``EmotionReaction`` (its header is not part of a ``FaceReaction``)."""
    face = msg.face
    return FaceReaction(
        box=(face.x_offset, face.y_offset, face.width, face.height),
        valence=Valence(msg.valence),
        confidence=float(msg.confidence),
        probabilities=tuple(float(p) for p in msg.probabilities),
        valence_score=float(msg.valence_score),
        detection_confidence=float(msg.detection_confidence),
        face_id=msg.face_id,
    )


def reactions_to_array(reactions: Iterable[FaceReaction], header: Header) -> EmotionReactionArray:
    """Every reaction of one frame (possibly none) as an ``EmotionReactionArray``."""
    return EmotionReactionArray(header=header, reactions=[reaction_to_msg(r, header) for r in reactions])


def stamp_to_ns(stamp: Time) -> int:
    """A ``builtin_interfaces/Time`` as integer nanoseconds."""
    return stamp.sec * NS_PER_S + stamp.nanosec


def ns_to_stamp(ns: int) -> Time:
    """Integer nanoseconds (>= 0) as a ``builtin_interfaces/Time``."""
    sec, nanosec = divmod(int(ns), NS_PER_S)
    return Time(sec=sec, nanosec=nanosec)


def action_from_msg(msg: RobotAction) -> Action:
    """The core view of a ``RobotAction`` (not validated: the feedback tracker does that)."""
    return Action(msg.action_id, msg.name, stamp_to_ns(msg.header.stamp), float(msg.duration))


def timed_reaction_from_msg(msg: EmotionReaction) -> TimedReaction:
    """The core view of an ``EmotionReaction`` (not validated: the feedback tracker does that)."""
    return TimedReaction(
        stamp_ns=stamp_to_ns(msg.header.stamp),
        face_id=msg.face_id,
        valence=int(msg.valence),
        valence_score=float(msg.valence_score),
        confidence=float(msg.confidence),
    )


def verdict_to_msg(verdict: ActionVerdict) -> ActionFeedback:
    """An ``ActionFeedback`` stamped with the time the verdict was made."""
    msg = ActionFeedback()
    msg.header.stamp = ns_to_stamp(verdict.decided_ns)
    msg.action_id = verdict.action.action_id
    msg.name = verdict.action.name
    msg.action_stamp = ns_to_stamp(verdict.action.stamp_ns)
    msg.verdict = int(verdict.verdict)
    msg.baseline_valence = float(verdict.baseline_valence)
    msg.response_valence = float(verdict.response_valence)
    msg.delta = float(verdict.delta)
    msg.confidence = float(verdict.confidence)
    msg.n_baseline = int(verdict.n_baseline)
    msg.n_response = int(verdict.n_response)
    msg.face_ids = list(verdict.face_ids)
    return msg


def stats_to_msg(row: ActionStatsRow) -> ActionStats:
    """One action name's statistics as an ``ActionStats``."""
    return ActionStats(
        name=row.name,
        count=row.count,
        well_received=row.well_received,
        neutral=row.neutral,
        badly_received=row.badly_received,
        unknown=row.unknown,
        mean_delta=float(row.mean_delta),
    )
