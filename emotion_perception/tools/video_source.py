# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Frames from a video file, a folder of images or a webcam, as BGR uint8 arrays (no ROS).

One class, :class:`VideoSource`, hides the three kinds behind ``read()``: a video file is read
with OpenCV (optionally between a start and an end time, optionally looping), an image folder
is read in sorted file-name order, and a webcam is opened by its device index (``"0"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.package_files import package_file

#: File suffixes read from an image folder (lower case).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp")

#: OpenCV's log level functions: in ``cv2.utils.logging`` from 4.8 on, in ``cv2`` itself before (Ubuntu 24.04's 4.6).
OPENCV_LOG = getattr(cv2.utils, "logging", cv2)
#: OpenCV's ``LOG_LEVEL_ERROR``, which 4.6 does not name in Python.
OPENCV_LOG_LEVEL_ERROR = 2

#: The real-face clip shipped with the package (a person going from crying to laughing).
DEFAULT_CLIP_NAME = "WolfgangLanger_Pexels.mp4"


class VideoSourceError(RuntimeError):
    """The source cannot be opened or read: missing file, empty folder, no such camera."""


@dataclass(frozen=True)
class VideoFrame:
    """One frame: its BGR pixels, its index in the source and its position in seconds (None if unknown)."""

    image: np.ndarray
    index: int
    position_s: float | None


def default_clip_path() -> Path:
    """Path of the packaged demo clip: the repository's ``media/`` or the installed share directory."""
    return package_file("media", DEFAULT_CLIP_NAME)


def is_device_index(source: str) -> bool:
    """True when ``source`` names a camera by its device index (a non-negative integer)."""
    return source.strip().isdigit()


def _open_camera(index: int) -> cv2.VideoCapture:
    """Open camera ``index`` without OpenCV's own warnings when there is none (the caller says it once)."""
    level = OPENCV_LOG.getLogLevel()
    OPENCV_LOG.setLogLevel(OPENCV_LOG_LEVEL_ERROR)
    try:
        return cv2.VideoCapture(index)
    finally:
        OPENCV_LOG.setLogLevel(level)


class VideoSource:
    """Read frames from ``source``: a video file path, an image folder path or a webcam index.

    ``start_s``/``end_s`` (seconds, ``end_s`` None = to the end) cut a video file or an image
    folder (read at ``folder_fps``); ``loop`` restarts a file or folder at ``start_s`` when it
    ends. A webcam ignores all three.
    """

    def __init__(
        self,
        source: str | Path,
        start_s: float = 0.0,
        end_s: float | None = None,
        loop: bool = False,
        folder_fps: float = 30.0,
    ) -> None:
        if start_s < 0 or (end_s is not None and end_s <= start_s):
            raise VideoSourceError(f"need 0 <= start ({start_s} s) < end ({end_s} s)")
        self._source = str(source)
        self._start_s, self._end_s, self._loop = start_s, end_s, loop
        self._files: list[Path] = []
        self._capture: cv2.VideoCapture | None = None
        self._next = 0
        self.fps: float | None = None
        if is_device_index(self._source):
            self.kind = "camera"
            self._capture = _open_camera(int(self._source))
            if not self._capture.isOpened():
                raise VideoSourceError(f"cannot open camera device {self._source}")
            fps = self._capture.get(cv2.CAP_PROP_FPS)
            self.fps = fps if fps > 0 else None
            return
        path = Path(self._source).expanduser()
        if path.is_dir():
            self.kind = "folder"
            self._files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._files:
                raise VideoSourceError(f"folder {path} holds no image ({', '.join(IMAGE_SUFFIXES)})")
            self.fps = folder_fps
            first = round(start_s * folder_fps)
            last = len(self._files) if end_s is None else min(len(self._files), round(end_s * folder_fps))
            self._files = self._files[first:last]
            if not self._files:
                raise VideoSourceError(f"folder {path} holds no image between {start_s} s and {end_s} s")
            return
        if not path.is_file():
            raise VideoSourceError(f"no such video file, image folder or camera index: {self._source!r}")
        self.kind = "file"
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise VideoSourceError(f"OpenCV cannot open {path} as a video")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps > 0 else None
        self._seek_start()

    @property
    def frame_count(self) -> int | None:
        """Frames one pass yields (file or folder), None for a camera or an unknown length."""
        if self.kind == "folder":
            return len(self._files)
        if self.kind == "camera" or self._capture is None:
            return None
        total = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if total <= 0:
            return None
        fps = self.fps or 0.0
        first = round(self._start_s * fps)
        last = total if self._end_s is None or not fps else min(total, round(self._end_s * fps))
        return max(0, last - first)

    def _seek_start(self) -> None:
        if self.kind == "folder":
            self._next = 0
            return
        assert self._capture is not None
        first = round(self._start_s * self.fps) if self.fps else 0
        if not self._capture.set(cv2.CAP_PROP_POS_FRAMES, first):
            raise VideoSourceError(f"cannot seek to frame {first} of {self._source}")
        self._next = first

    def _read_once(self) -> VideoFrame | None:
        if self.kind == "folder":
            if self._next >= len(self._files):
                return None
            file = self._files[self._next]
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                raise VideoSourceError(f"cannot decode image {file}")
            frame = VideoFrame(image, self._next, self._start_s + self._next / self.fps if self.fps else None)
            self._next += 1
            return frame
        assert self._capture is not None
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        index = self._next
        self._next += 1
        if self.kind == "camera":
            return VideoFrame(image, index, None)
        position = index / self.fps if self.fps else None
        if self._end_s is not None and position is not None and position >= self._end_s:
            return None
        return VideoFrame(image, index, position)

    def read(self) -> VideoFrame | None:
        """The next frame, or None when the source has ended (never None while looping a non-empty source)."""
        frame = self._read_once()
        if frame is None and self._loop and self.kind != "camera":
            self._seek_start()
            frame = self._read_once()
        return frame

    def __iter__(self) -> Iterator[VideoFrame]:
        while (frame := self.read()) is not None:
            yield frame

    def close(self) -> None:
        """Release the file or camera (safe to call twice)."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
