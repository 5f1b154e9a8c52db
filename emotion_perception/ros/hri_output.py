# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS4HRI (REP-155) output: the faces and their expressions on ``/humans/faces/...`` (needs ``hri_msgs``).

Per processed frame: ``tracked`` (``hri_msgs/IdsList``) lists the faces with ``hri_face_detect``'s hysteresis
(:class:`~emotion_perception.vision.tracking.TrackedFaces`: after a few frames in a row, kept through short
misses). Per listed face id, in each frame it is in: ``<id>/roi`` (``NormalizedRegionOfInterest2D``),
``<id>/expression`` (``Expression``), ``<id>/landmarks`` (``FacialLandmarks``) and, unless face images are
forbidden, ``<id>/cropped`` (the box letterboxed to 128 x 128) and ``<id>/aligned`` (eyes levelled, 128 x 128),
both made only while someone subscribes. ``tracked`` says ``[]`` once on :meth:`HriFaceOutput.clear` (pause,
shutdown) and when no frame came for ``camera_timeout`` seconds. A face's publishers are created when its id is
first listed and destroyed ``face_timeout`` seconds after it was last seen. Ids are the tracker's random ids, so a
REP-155 id is also the ``face_id`` of the same face's ``EmotionReaction``. Names are absolute (REP-155's
``/humans/faces/...``) unless ``namespaced``. All topics take ``tracked``'s QoS, which parameters may override
(``qos_overrides.<tracked topic>.publisher.{reliability,history,depth,durability}``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hri_msgs.msg import Expression, FacialLandmarks, IdsList, NormalizedPointOfInterest2D, NormalizedRegionOfInterest2D
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.event_handler import PublisherEventCallbacks
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_perception.reaction import FaceReaction, Valence
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.ros.qos import overridable_publisher
from emotion_perception.vision.preprocessing import InputSpec, eye_roll, face_crop, letterbox
from emotion_perception.vision.tracking import TrackedFaces

FACES_NAMESPACE = "humans/faces"
#: Side of the ``cropped`` and ``aligned`` images (``hri_face_detect``'s default).
FACE_IMAGE_SIZE = 128
#: ``aligned``: a square of the face box's mean side about its centre, rotated so the eyes are level.
ALIGNED_SPEC = InputSpec(size=FACE_IMAGE_SIZE, grayscale=False, scale=1.0)
#: Our five points (the detector's order) -> their ``FacialLandmarks`` index. The message has no eye centres:
#: the pupils are the nearest points; the nose tip is ``NOSE``; the mouth corners are the outer ones.
LANDMARK_INDICES = (
    FacialLandmarks.RIGHT_PUPIL,
    FacialLandmarks.LEFT_PUPIL,
    FacialLandmarks.NOSE,
    FacialLandmarks.MOUTH_OUTER_RIGHT,
    FacialLandmarks.MOUTH_OUTER_LEFT,
)
LANDMARKS_COUNT = 70
#: For the per-face publishers, created and destroyed from the processing thread: a multi-threaded executor
#: that meets the QoS-event handler of a publisher destroyed meanwhile dies (ros2/rclpy#1206; reproduced here).
NO_EVENT_HANDLERS = PublisherEventCallbacks(use_default_callbacks=False)
#: s ``clear`` waits for the subscribers matched to acknowledge the ``[]`` (a sample in flight at exit is lost).
CLEAR_ACK_S = 1.0
#: Our valence class -> the closest ``hri_msgs/Expression`` constant (it has no generic "negative").
EXPRESSIONS: dict[Valence, str] = {
    Valence.POSITIVE: Expression.HAPPY,
    Valence.NEUTRAL: Expression.NEUTRAL,
    Valence.NEGATIVE: Expression.SAD,
}


def hri_qos() -> QoSProfile:
    """``hri_face_detect``'s QoS: reliable, volatile, keep last 1 (a new object: overrides change it in place)."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)


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


def landmarks_msg(reaction: FaceReaction, header: Header, width: int, height: int) -> FacialLandmarks:
    """The detector's five points at their ``FacialLandmarks`` indices (normalised, clipped to [0, 1], ``c`` = the
    detector score); the other 65 are zero with zero confidence."""
    points = [NormalizedPointOfInterest2D() for _ in range(LANDMARKS_COUNT)]
    for index, (x, y) in zip(LANDMARK_INDICES, reaction.landmarks, strict=False):
        points[index] = NormalizedPointOfInterest2D(
            x=float(np.clip(x / width, 0.0, 1.0)), y=float(np.clip(y / height, 0.0, 1.0)),
            c=float(reaction.detection_confidence))
    return FacialLandmarks(header=header, landmarks=points, height=height, width=width)


def cropped_image(frame: np.ndarray, reaction: FaceReaction) -> np.ndarray:
    """The face box of ``reaction`` (clipped to the frame) letterboxed to ``FACE_IMAGE_SIZE`` squared."""
    x, y, w, h = reaction.box
    height, width = frame.shape[:2]
    x0, y0 = min(max(x, 0), width - 1), min(max(y, 0), height - 1)
    x1, y1 = max(min(x + w, width), x0 + 1), max(min(y + h, height), y0 + 1)
    return letterbox(frame[y0:y1, x0:x1], FACE_IMAGE_SIZE)


def aligned_image(frame: np.ndarray, reaction: FaceReaction) -> np.ndarray:
    """The face of ``reaction`` with its eyes levelled (``FACE_IMAGE_SIZE`` squared; unrotated without landmarks)."""
    roll = eye_roll(reaction.landmarks) if len(reaction.landmarks) >= 2 else 0.0
    return face_crop(frame, reaction.box, ALIGNED_SPEC, roll)


@dataclass
class _FacePublishers:
    roi: Publisher
    expression: Publisher
    landmarks: Publisher
    cropped: Publisher | None
    aligned: Publisher | None
    last_seen: float

    def all(self) -> list[Publisher]:
        return [p for p in (self.roi, self.expression, self.landmarks, self.cropped, self.aligned) if p is not None]


class HriFaceOutput:
    """The REP-155 face topics of one node; thread-safe (frames on a worker, clear and expiry on the executor).

    ``min_frames`` / ``max_missed``: :class:`TrackedFaces`' rule for ``tracked``. ``face_images`` False: no
    ``cropped`` or ``aligned`` publisher at all (face images never leave the process). ``camera_timeout``: s
    without a frame after which ``tracked`` says ``[]``. ``namespaced``: ``humans/faces/...`` in the node's
    namespace instead of ``/humans/faces/...``.
    """

    def __init__(self, node: Node, face_timeout: float = 2.0, *, min_frames: int = 3, max_missed: int = 4,
                 face_images: bool = True, camera_timeout: float = 1.0, namespaced: bool = False) -> None:
        if face_timeout < 0.0:
            raise ValueError(f"face_timeout must be >= 0, got {face_timeout}")
        if not camera_timeout > 0.0:
            raise ValueError(f"camera_timeout must be > 0, got {camera_timeout}")
        self._node = node
        self._face_timeout = face_timeout
        self._face_images = face_images
        self._camera_timeout = camera_timeout
        self._base = FACES_NAMESPACE if namespaced else f"/{FACES_NAMESPACE}"
        self._rule = TrackedFaces(min_frames, max_missed)
        self._faces: dict[str, _FacePublishers] = {}
        self._images: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._last_frame = time.monotonic()
        self._last_frame_id = ""
        self._listing = False  # the last tracked message named someone
        self._tracked_pub = overridable_publisher(node, IdsList, f"{self._base}/tracked", hri_qos())
        self._qos = self._tracked_pub.qos_profile
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        period = min(max(camera_timeout / 4.0, 0.05), 1.0)
        self._timer = node.create_timer(period, lambda: self.tick(time.monotonic()), clock=steady)

    @property
    def tracked_topic(self) -> str:
        """The resolved name of ``tracked`` (the others are beside it)."""
        return self._tracked_pub.topic_name

    @property
    def face_ids(self) -> list[str]:
        """Ids whose publishers exist now (listed, or left less than ``face_timeout`` ago)."""
        with self._lock:
            return list(self._faces)

    @property
    def images_made(self) -> dict[str, int]:
        """Face images made since start, per topic (``cropped``, ``aligned``): only for a subscriber."""
        with self._lock:
            return dict(self._images)

    def publish(self, reactions: list[FaceReaction], header: Header, frame: np.ndarray, now: float) -> None:
        """Publish one processed frame (``now``: monotonic seconds, for the expiry and the camera timeout)."""
        height, width = frame.shape[:2]
        with self._lock:
            present = {r.face_id: r for r in reactions if r.face_id}
            listed = self._rule.update(list(present))
            for face_id in listed:
                reaction = present.get(face_id)
                if reaction is None:
                    continue  # listed through a short miss: nothing new to say about it
                face = self._faces.get(face_id) or self._create(face_id)
                face.last_seen = now
                face.roi.publish(roi_msg(reaction, header, width, height))
                face.expression.publish(expression_msg(reaction, header))
                face.landmarks.publish(landmarks_msg(reaction, header, width, height))
                self._publish_image(face.cropped, "cropped", cropped_image, frame, reaction, header)
                self._publish_image(face.aligned, "aligned", aligned_image, frame, reaction, header)
            for face_id in present.keys() & self._faces.keys():
                self._faces[face_id].last_seen = now
            self._tracked_pub.publish(IdsList(header=header, ids=listed))
            self._listing = bool(listed)
            self._last_frame, self._last_frame_id = now, header.frame_id
            self._expire_locked(now)

    def tick(self, now: float) -> None:
        """Expire face publishers, and say ``[]`` once when no frame came for ``camera_timeout`` (the timer's job)."""
        with self._lock:
            self._expire_locked(now)
            if self._listing and now - self._last_frame > self._camera_timeout:
                self._publish_empty()

    def clear(self) -> None:
        """Say ``tracked: []`` once and forget which faces were listed (pause, shutdown); waits up to
        ``CLEAR_ACK_S`` for the matched subscribers to acknowledge it. Nothing when the context is gone."""
        with self._lock:
            self._rule.reset()
            if not self._node.context.ok():
                return
            self._publish_empty()
            self._tracked_pub.wait_for_all_acked(Duration(seconds=CLEAR_ACK_S))

    def expire(self, now: float) -> list[str]:
        """Destroy the publishers of faces unseen for more than ``face_timeout``; returns their ids."""
        with self._lock:
            return self._expire_locked(now)

    def destroy(self) -> None:
        """Destroy the timer and every publisher (the node is going away; :meth:`clear` first to say ``[]``)."""
        with self._lock:
            self._node.destroy_timer(self._timer)
            for face_id in list(self._faces):
                self._destroy(face_id)
            self._node.destroy_publisher(self._tracked_pub)

    def _publish_empty(self) -> None:
        header = Header(stamp=self._node.get_clock().now().to_msg(), frame_id=self._last_frame_id)
        self._tracked_pub.publish(IdsList(header=header, ids=[]))
        self._listing = False

    def _publish_image(self, publisher: Publisher | None, name: str,
                       make: Callable[[np.ndarray, FaceReaction], np.ndarray], frame: np.ndarray,
                       reaction: FaceReaction, header: Header) -> None:
        if publisher is None or publisher.get_subscription_count() == 0:
            return
        self._images[name] += 1
        publisher.publish(numpy_to_image(np.ascontiguousarray(make(frame, reaction)), "bgr8", header))

    def _create(self, face_id: str) -> _FacePublishers:
        base = f"{self._base}/{face_id}"
        face = _FacePublishers(
            roi=self._publisher(NormalizedRegionOfInterest2D, f"{base}/roi"),
            expression=self._publisher(Expression, f"{base}/expression"),
            landmarks=self._publisher(FacialLandmarks, f"{base}/landmarks"),
            cropped=self._publisher(Image, f"{base}/cropped") if self._face_images else None,
            aligned=self._publisher(Image, f"{base}/aligned") if self._face_images else None,
            last_seen=0.0,
        )
        self._faces[face_id] = face
        return face

    def _publisher(self, msg_type: type, topic: str) -> Publisher:
        return self._node.create_publisher(msg_type, topic, self._qos, event_callbacks=NO_EVENT_HANDLERS)

    def _destroy(self, face_id: str) -> None:
        for publisher in self._faces.pop(face_id).all():
            self._node.destroy_publisher(publisher)

    def _expire_locked(self, now: float) -> list[str]:
        gone = [i for i, f in self._faces.items() if now - f.last_seen > self._face_timeout]
        for face_id in gone:
            self._destroy(face_id)
        return gone
