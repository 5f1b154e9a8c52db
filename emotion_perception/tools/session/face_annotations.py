# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Face boxes as Foxglove image annotations: one ``foxglove_msgs/msg/ImageAnnotations`` per recorded camera frame.

The perception node publishes one ``EmotionReactionArray`` per frame it analyses, stamped with the frame's
header. :class:`FaceAnnotator` pairs each recorded frame with that array (same ``frame_id`` and stamp) and
yields the frame's annotation set to write at the frame's own log time: a box and a label per face, coloured
like the node's debug image. A frame the node skipped (a later frame's array came first) or never answered
(no array within :data:`WAIT_NS`) gets an empty set, so every frame has exactly one and boxes never linger
on a frame they do not belong to. Messages are CDR, as ROS 2 serialises them, in the layout
:mod:`message_definitions` embeds for the type (no ``foxglove_msgs`` package needed).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from emotion_perception.reaction import Valence
from emotion_perception.vision.drawing import VALENCE_COLOURS

ANNOTATIONS_TYPE = "foxglove_msgs/msg/ImageAnnotations"
NS_PER_S = 1_000_000_000
#: How long a frame waits for its reactions before it is written with an empty set (recorder clock, ns).
WAIT_NS = 5 * NS_PER_S
LINE_LOOP = 2  # foxglove_msgs/PointsAnnotation.LINE_LOOP: a closed polygon
FONT_SIZE = 16.0
LINE_THICKNESS = 2.0
TEXT_COLOUR = (0.0, 0.0, 0.0, 1.0)
TRANSPARENT = (0.0, 0.0, 0.0, 0.0)

#: A camera frame: (header.frame_id, header.stamp in ns).
FrameKey = tuple[str, int]
#: What to write: (log time in ns, CDR-serialised ImageAnnotations).
Annotation = tuple[int, bytes]


def header_key(data: bytes) -> FrameKey:
    """The ``(frame_id, stamp)`` of a CDR-serialised message that starts with a ``std_msgs/Header``
    (``sensor_msgs/Image``, ``CompressedImage``); raises ValueError when ``data`` is too short."""
    order = "<" if data[1:2] and data[1] & 1 else ">"  # encapsulation 0x0001 is little-endian CDR
    try:
        sec, nanosec, length = struct.unpack_from(order + "iII", data, 4)
    except struct.error as exc:
        raise ValueError(f"not a CDR message with a header ({len(data)} bytes)") from exc
    if not 1 <= length <= len(data) - 16:  # the string's length counts its terminating NUL
        raise ValueError(f"not a CDR message with a header (a frame_id of {length} bytes in {len(data)})")
    return data[16:15 + length].decode(errors="replace"), sec * NS_PER_S + nanosec


class _CdrWriter:
    """Little-endian CDR (XCDR1, as ROS 2 writes it) of the few field types an ImageAnnotations holds."""

    def __init__(self) -> None:
        self._buffer = bytearray(b"\x00\x01\x00\x00")

    def _put(self, fmt: str, align: int, *values: Any) -> None:
        self._buffer += bytes(-(len(self._buffer) - 4) % align)
        self._buffer += struct.pack("<" + fmt, *values)

    def time(self, stamp_ns: int) -> None:
        self._put("iI", 4, *divmod(stamp_ns, NS_PER_S))

    def uint8(self, value: int) -> None:
        self._put("B", 1, value)

    def length(self, count: int) -> None:
        self._put("I", 4, count)

    def float64(self, *values: float) -> None:
        self._put(f"{len(values)}d", 8, *values)

    def string(self, text: str) -> None:
        raw = text.encode() + b"\0"
        self._put("I", 4, len(raw))
        self._buffer += raw

    def data(self) -> bytes:
        return bytes(self._buffer)


def _valence(value: int) -> Valence:
    return Valence(value) if value in Valence._value2member_map_ else Valence.NEUTRAL


def _rgba(valence: Valence) -> tuple[float, float, float, float]:
    blue, green, red = VALENCE_COLOURS[valence]
    return red / 255, green / 255, blue / 255, 1.0


def label(reaction: Any) -> str:
    """The debug image's label of a face: id, valence and confidence."""
    name = _valence(reaction.valence).name.lower()
    return f"{reaction.face_id + ' ' if reaction.face_id else ''}{name} {reaction.confidence:.2f}"


def encode_annotations(reactions: Sequence[Any], stamp_ns: int) -> bytes:
    """A serialised ImageAnnotations of ``reactions`` (``EmotionReaction``-like): per face, its box as a closed
    polygon and its label above it, stamped ``stamp_ns`` (the frame's stamp)."""
    cdr = _CdrWriter()
    cdr.length(0)  # circles
    cdr.length(len(reactions))  # points: one box per face
    for reaction in reactions:
        box = reaction.face
        left, top = float(box.x_offset), float(box.y_offset)
        right, bottom = left + box.width, top + box.height
        cdr.time(stamp_ns)
        cdr.uint8(LINE_LOOP)
        cdr.length(4)
        for x, y in ((left, top), (right, top), (right, bottom), (left, bottom)):
            cdr.float64(x, y)
        cdr.float64(*_rgba(_valence(reaction.valence)))
        cdr.length(0)  # outline_colors
        cdr.float64(*TRANSPARENT)
        cdr.float64(LINE_THICKNESS)
    cdr.length(len(reactions))  # texts: one label per face
    for reaction in reactions:
        cdr.time(stamp_ns)
        cdr.float64(float(reaction.face.x_offset), max(0.0, reaction.face.y_offset - FONT_SIZE - 2))
        cdr.string(label(reaction))
        cdr.float64(FONT_SIZE)
        cdr.float64(*TEXT_COLOUR)
        cdr.float64(*_rgba(_valence(reaction.valence)))
    return cdr.data()


class FaceAnnotator:
    """Pairs recorded camera frames with the perception node's reactions; each call returns what to write."""

    def __init__(self, wait_ns: int = WAIT_NS) -> None:
        self.wait_ns = wait_ns
        self._frames: dict[FrameKey, int] = {}  # frame -> its log time, waiting for its reactions
        self._early: dict[FrameKey, tuple[int, Sequence[Any]]] = {}  # reactions whose frame has not come yet

    @property
    def waiting(self) -> int:
        """Frames still waiting for their reactions."""
        return len(self._frames)

    def frame(self, key: FrameKey, log_time_ns: int) -> list[Annotation]:
        """A camera frame was recorded at ``log_time_ns``."""
        if key in self._early:
            _, reactions = self._early.pop(key)
            return [(log_time_ns, encode_annotations(reactions, key[1]))]
        self._frames[key] = log_time_ns
        return []

    def reactions(self, key: FrameKey, reactions: Sequence[Any], now_ns: int) -> list[Annotation]:
        """The reactions of frame ``key`` (an ``EmotionReactionArray``'s header and list) arrived at ``now_ns``.
        Frames of the same camera stamped before it that are still waiting were skipped by the node."""
        out = [(self._frames.pop(k), encode_annotations((), k[1]))
               for k in [k for k in self._frames if k[0] == key[0] and k[1] < key[1]]]
        if key in self._frames:
            out.append((self._frames.pop(key), encode_annotations(reactions, key[1])))
        else:
            self._early[key] = (now_ns, reactions)
        return out

    def expire(self, now_ns: int) -> list[Annotation]:
        """Empty sets for frames recorded more than ``wait_ns`` before ``now_ns``; forget reactions as old."""
        old = [k for k, t in self._frames.items() if now_ns - t > self.wait_ns]
        for key in [k for k, (t, _) in self._early.items() if now_ns - t > self.wait_ns]:
            del self._early[key]
        return [(self._frames.pop(k), encode_annotations((), k[1])) for k in old]

    def finish(self) -> list[Annotation]:
        """Empty sets for every frame still waiting (the recording ends)."""
        return self.expire(now_ns=max(self._frames.values(), default=0) + self.wait_ns + 1)
