# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""``sensor_msgs/Image`` and ``sensor_msgs/CompressedImage`` to and from numpy, without cv_bridge.

Reading works on any object with the message's fields (duck-typed), so it never needs rclpy.
Every malformed message raises :class:`ImageConversionError` with a sentence saying what is wrong; an image
over the pixel limit raises its subclass :class:`ImageTooLargeError`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image

#: Largest image (width x height) accepted by default: 8K UHD. Larger frames are refused
#: before any allocation, so a corrupt header cannot make a node allocate gigabytes.
DEFAULT_MAX_PIXELS = 7680 * 4320


class ImageConversionError(ValueError):
    """A message cannot be converted: unknown encoding, impossible size, or bad data."""


class ImageTooLargeError(ImageConversionError):
    """A well-formed image, raw or compressed, with more pixels than the caller's limit."""


@dataclass(frozen=True)
class _Encoding:
    dtype: np.dtype
    channels: int
    to_bgr: int | None  # cv2 colour conversion code, None when already BGR (or mono)


_ENCODINGS: dict[str, _Encoding] = {
    "bgr8": _Encoding(np.dtype(np.uint8), 3, None),
    "rgb8": _Encoding(np.dtype(np.uint8), 3, cv2.COLOR_RGB2BGR),
    "bgra8": _Encoding(np.dtype(np.uint8), 4, cv2.COLOR_BGRA2BGR),
    "rgba8": _Encoding(np.dtype(np.uint8), 4, cv2.COLOR_RGBA2BGR),
    "mono8": _Encoding(np.dtype(np.uint8), 1, cv2.COLOR_GRAY2BGR),
    "8UC1": _Encoding(np.dtype(np.uint8), 1, cv2.COLOR_GRAY2BGR),
    "8UC3": _Encoding(np.dtype(np.uint8), 3, None),
    "mono16": _Encoding(np.dtype(np.uint16), 1, cv2.COLOR_GRAY2BGR),
    "16UC1": _Encoding(np.dtype(np.uint16), 1, cv2.COLOR_GRAY2BGR),
    # Packed 4:2:2, two bytes per pixel: YUYV ("yuv422_yuy2") and UYVY ("yuv422", as in REP 104).
    "yuv422_yuy2": _Encoding(np.dtype(np.uint8), 2, cv2.COLOR_YUV2BGR_YUY2),
    "yuv422": _Encoding(np.dtype(np.uint8), 2, cv2.COLOR_YUV2BGR_UYVY),
}

#: Encodings this module reads and writes.
SUPPORTED_ENCODINGS: tuple[str, ...] = tuple(_ENCODINGS)


def _encoding(name: str) -> _Encoding:
    try:
        return _ENCODINGS[name]
    except KeyError:
        raise ImageConversionError(
            f"unsupported encoding {name!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}"
        ) from None


def image_to_numpy(msg: Image, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Return the pixels of ``msg`` in its own encoding: ``(H, W)`` or ``(H, W, C)``, native byte order.

    Row padding (``step`` larger than a row) is removed; the result is a copy-free view where
    possible, so copy it before keeping it beyond the message's lifetime. The pixel limit is checked first,
    so an oversized frame is :class:`ImageTooLargeError` whatever else is wrong with it.
    """
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height * width > max_pixels:
        raise ImageTooLargeError(
            f"image of {width}x{height} pixels is larger than the limit of {max_pixels} pixels"
        )
    enc = _encoding(msg.encoding)
    if height <= 0 or width <= 0:
        raise ImageConversionError(f"image has zero size ({width}x{height})")
    if enc.channels == 2 and width % 2:
        raise ImageConversionError(f"{msg.encoding} needs an even width, got {width}")
    row_bytes = width * enc.channels * enc.dtype.itemsize
    if step < row_bytes:
        raise ImageConversionError(
            f"step {step} is smaller than one row of {width} px of {msg.encoding} ({row_bytes} bytes)"
        )
    if step % enc.dtype.itemsize:
        raise ImageConversionError(f"step {step} is not a multiple of the {enc.dtype.itemsize}-byte sample")
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size != step * height:
        raise ImageConversionError(
            f"data has {data.size} bytes, expected step x height = {step} x {height} = {step * height}"
        )
    rows = data.reshape(height, step)[:, :row_bytes]
    dtype = enc.dtype.newbyteorder(">" if msg.is_bigendian else "<") if enc.dtype.itemsize > 1 else enc.dtype
    pixels = np.ascontiguousarray(rows).view(dtype).reshape(height, width, enc.channels)
    if dtype.byteorder not in ("=", "|") and dtype.byteorder != ("<" if sys.byteorder == "little" else ">"):
        pixels = pixels.astype(enc.dtype)
    return pixels[:, :, 0] if enc.channels == 1 else pixels


def image_to_bgr8(msg: Image, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Return ``msg`` as a contiguous ``(H, W, 3)`` uint8 BGR array, whatever its encoding."""
    pixels = image_to_numpy(msg, max_pixels)
    enc = _encoding(msg.encoding)
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if enc.to_bgr is None:
        return np.ascontiguousarray(pixels)
    return cv2.cvtColor(np.ascontiguousarray(pixels), enc.to_bgr)


def numpy_to_image(
    array: np.ndarray, encoding: str = "bgr8", header: object | None = None
) -> Image:
    """Build a ``sensor_msgs/Image`` from ``array``, checking that its shape and dtype fit ``encoding``."""
    enc = _encoding(encoding)
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] != enc.channels:
        raise ImageConversionError(
            f"{encoding} needs {enc.channels} channel(s), got an array of shape {array.shape}"
        )
    if array.dtype != enc.dtype:
        raise ImageConversionError(f"{encoding} needs dtype {enc.dtype}, got {array.dtype}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageConversionError(f"image has zero size ({array.shape[1]}x{array.shape[0]})")
    if enc.channels == 2 and array.shape[1] % 2:
        raise ImageConversionError(f"{encoding} needs an even width, got {array.shape[1]}")
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(array.shape[0]), int(array.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = int(sys.byteorder == "big" and enc.dtype.itemsize > 1)
    msg.step = int(array.shape[1] * enc.channels * enc.dtype.itemsize)
    msg.data = np.ascontiguousarray(array).tobytes()
    return msg


def compressed_to_bgr8(msg: CompressedImage, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode a JPEG or PNG ``sensor_msgs/CompressedImage`` to a ``(H, W, 3)`` uint8 BGR array."""
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size == 0:
        raise ImageConversionError("compressed image has no data")
    header_ok, size = _compressed_size(data)
    if header_ok and size[0] * size[1] > max_pixels:
        raise ImageTooLargeError(
            f"compressed image of {size[0]}x{size[1]} pixels is larger than the limit of {max_pixels} pixels"
        )
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageConversionError(
            f"cannot decode {data.size} bytes of compressed image (format {msg.format!r})"
        )
    if image.shape[0] * image.shape[1] > max_pixels:
        raise ImageTooLargeError(
            f"compressed image of {image.shape[1]}x{image.shape[0]} pixels is larger than the limit"
            f" of {max_pixels} pixels"
        )
    return image


def _compressed_size(data: np.ndarray) -> tuple[bool, tuple[int, int]]:
    """Read (width, height) from a PNG header or JPEG SOF marker without decoding the pixels."""
    raw = data.tobytes()
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24:
        return True, (int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big"))
    if raw[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 <= len(raw):
            if raw[pos] != 0xFF:
                break
            marker = raw[pos + 1]
            length = int.from_bytes(raw[pos + 2 : pos + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height = int.from_bytes(raw[pos + 5 : pos + 7], "big")
                return True, (int.from_bytes(raw[pos + 7 : pos + 9], "big"), height)
            pos += 2 + length
    return False, (0, 0)


def bgr8_to_compressed(
    image: np.ndarray, image_format: str = "jpeg", header: object | None = None, quality: int = 90
) -> CompressedImage:
    """Encode a BGR uint8 image as a ``sensor_msgs/CompressedImage`` (``jpeg`` or ``png``)."""
    if image_format not in ("jpeg", "png"):
        raise ImageConversionError(f"unsupported compressed format {image_format!r}; use 'jpeg' or 'png'")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if image_format == "jpeg" else []
    ok, encoded = cv2.imencode(".jpg" if image_format == "jpeg" else ".png", image, params)
    if not ok:
        raise ImageConversionError(f"OpenCV could not encode an image of shape {image.shape} as {image_format}")
    msg = CompressedImage()
    if header is not None:
        msg.header = header
    msg.format = image_format
    msg.data = encoded.tobytes()
    return msg
