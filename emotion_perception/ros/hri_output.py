# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS4HRI (REP-155) output: the faces and their expressions on ``humans/faces/...`` (needs ``hri_msgs``).

Per processed frame: ``humans/faces/tracked`` (``hri_msgs/IdsList``, empty when nobody is in view);
per face id: ``humans/faces/<id>/roi`` (``NormalizedRegionOfInterest2D``), ``humans/faces/<id>/expression``
(``Expression``) and, only when asked, ``humans/faces/<id>/cropped`` (``sensor_msgs/Image``). A face's
publishers are created when its id first appears and destroyed ``face_timeout`` seconds after it was last
seen. Ids are the tracker's face ids (``face_<n>``, never reused while the node runs), so a REP-155 id is
also the ``face_id`` of the same face's ``EmotionReaction``. Names are relative: in the root namespace they
are REP-155's ``/humans/faces/...``, and a namespaced robot keeps its faces apart from another's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from hri_msgs.msg import Expression, IdsList, NormalizedRegionOfInterest2D
from rclpy.event_handler import PublisherEventCallbacks
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_perception.reaction import FaceReaction, Valence
from emotion_perception.ros.image_conversion import numpy_to_image

FACES_NAMESPACE = "humans/faces"
HRI_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
#: For the per-face publishers, created and destroyed from the processing thread: a multi-threaded executor
#: that meets the QoS-event handler of a publisher destroyed meanwhile dies (ros2/rclpy#1206; reproduced here).
NO_EVENT_HANDLERS = PublisherEventCallbacks(use_default_callbacks=False)
#: Our valence class -> the closest ``hri_msgs/Expression`` constant (it has no generic "negative").
EXPRESSIONS: dict[Valence, str] = {
    Valence.POSITIVE: Expression.HAPPY,
    Valence.NEUTRAL: Expression.NEUTRAL,
    Valence.NEGATIVE: Expression.SAD,
}


def roi_msg(reaction: FaceReaction, header: Header, width: int, height: int) -> NormalizedRegionOfInterest2D:
    """The face box of ``reaction`` normalised by the ``width`` x ``height`` frame, clipped to [0, 1]."""
    x, y, w, h = reaction.box
    return NormalizedRegionOfInterest2D(
        header=header,
        xmin=float(np.clip(x / width, 0.0, 1.0)),
        ymin=float(np.clip(y / height, 0.0, 1.0)),
        xmax=float(np.clip((x + w) / width, 0.0, 1.0)),
        ymax=float(np.clip((y + h) / height, 0.0, 1.0)),
        c=float(reaction.detection_confidence),
    )


def expression_msg(reaction: FaceReaction, header: Header) -> Expression:
    """``valence`` = our valence_score, ``confidence`` = our calibrated confidence; arousal is not estimated (0)."""
    return Expression(
        header=header,
        expression=EXPRESSIONS[reaction.valence],
        valence=float(reaction.valence_score),
        arousal=0.0,
        confidence=float(reaction.confidence),
    )


@dataclass
class _FacePublishers:
    roi: Publisher
    expression: Publisher
    cropped: Publisher | None
    last_seen: float


class HriFaceOutput:
    """The REP-155 face topics of one node; thread-safe (frames on a worker, expiry on a timer)."""

    def __init__(self, node: Node, face_timeout: float = 2.0, publish_cropped: bool = False) -> None:
        if face_timeout < 0.0:
            raise ValueError(f"face_timeout must be >= 0, got {face_timeout}")
        self._node = node
        self._face_timeout = face_timeout
        self._publish_cropped = publish_cropped
        self._faces: dict[str, _FacePublishers] = {}
        self._lock = threading.Lock()
        self._tracked_pub = node.create_publisher(IdsList, f"{FACES_NAMESPACE}/tracked", HRI_QOS)

    @property
    def face_ids(self) -> list[str]:
        """Ids whose publishers exist now (in view, or left less than ``face_timeout`` ago)."""
        with self._lock:
            return list(self._faces)

    def publish(self, reactions: list[FaceReaction], header: Header, frame: np.ndarray, now: float) -> None:
        """Publish one processed frame (``now``: monotonic seconds, for the publishers' expiry)."""
        height, width = frame.shape[:2]
        with self._lock:
            ids = []
            for reaction in reactions:
                if not reaction.face_id:
                    continue
                face = self._faces.get(reaction.face_id) or self._create(reaction.face_id, now)
                face.last_seen = now
                face.roi.publish(roi_msg(reaction, header, width, height))
                face.expression.publish(expression_msg(reaction, header))
                if face.cropped is not None:
                    face.cropped.publish(self._crop(frame, reaction, header))
                ids.append(reaction.face_id)
            self._tracked_pub.publish(IdsList(header=header, ids=ids))
            self._expire_locked(now)

    def expire(self, now: float) -> list[str]:
        """Destroy the publishers of faces unseen for more than ``face_timeout``; returns their ids."""
        with self._lock:
            return self._expire_locked(now)

    def destroy(self) -> None:
        """Destroy every publisher (the node is going away)."""
        with self._lock:
            for face_id in list(self._faces):
                self._destroy(face_id)
            self._node.destroy_publisher(self._tracked_pub)

    def _create(self, face_id: str, now: float) -> _FacePublishers:
        base = f"{FACES_NAMESPACE}/{face_id}"
        face = _FacePublishers(
            roi=self._publisher(NormalizedRegionOfInterest2D, f"{base}/roi"),
            expression=self._publisher(Expression, f"{base}/expression"),
            cropped=self._publisher(Image, f"{base}/cropped") if self._publish_cropped else None,
            last_seen=now,
        )
        self._faces[face_id] = face
        return face

    def _publisher(self, msg_type: type, topic: str) -> Publisher:
        return self._node.create_publisher(msg_type, topic, HRI_QOS, event_callbacks=NO_EVENT_HANDLERS)

    def _destroy(self, face_id: str) -> None:
        face = self._faces.pop(face_id)
        for publisher in (face.roi, face.expression, face.cropped):
            if publisher is not None:
                self._node.destroy_publisher(publisher)

    def _expire_locked(self, now: float) -> list[str]:
        gone = [i for i, f in self._faces.items() if now - f.last_seen > self._face_timeout]
        for face_id in gone:
            self._destroy(face_id)
        return gone

    @staticmethod
    def _crop(frame: np.ndarray, reaction: FaceReaction, header: Header) -> Image:
        x, y, w, h = reaction.box
        height, width = frame.shape[:2]
        x0, y0 = min(max(x, 0), width - 1), min(max(y, 0), height - 1)
        x1, y1 = max(min(x + w, width), x0 + 1), max(min(y + h, height), y0 + 1)
        return numpy_to_image(np.ascontiguousarray(frame[y0:y1, x0:x1]), "bgr8", header)
