# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Property-based checks: no message, however malformed, escapes image_conversion's one error type."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CompressedImage, Image

from emotion_perception.ros.image_conversion import (
    SUPPORTED_ENCODINGS,
    ImageConversionError,
    bgr8_to_compressed,
    compressed_to_bgr8,
    image_to_bgr8,
    image_to_numpy,
    numpy_to_image,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHANNELS = {"bgr8": 3, "rgb8": 3, "bgra8": 4, "rgba8": 4, "mono8": 1, "8UC1": 1, "8UC3": 3,
            "mono16": 1, "16UC1": 1, "yuv422_yuy2": 2, "yuv422": 2}


@st.composite
def arbitrary_images(draw: st.DrawFn) -> Image:
    msg = Image()
    msg.encoding = draw(st.sampled_from(SUPPORTED_ENCODINGS) | st.text(max_size=12))
    msg.height = draw(st.integers(0, 40) | st.integers(0, 2**32 - 1))
    msg.width = draw(st.integers(0, 40) | st.integers(0, 2**32 - 1))
    msg.step = draw(st.integers(0, 200) | st.integers(0, 2**32 - 1))
    msg.is_bigendian = draw(st.integers(0, 1))
    msg.data = draw(st.binary(max_size=4000))
    return msg


@SETTINGS
@given(arbitrary_images())
def test_any_image_message_converts_or_raises_the_one_error(msg: Image) -> None:
    try:
        out = image_to_bgr8(msg)
    except ImageConversionError as err:
        assert str(err)
        return
    assert out.shape == (msg.height, msg.width, 3)
    assert out.dtype == np.uint8 and out.flags.c_contiguous


@st.composite
def valid_arrays(draw: st.DrawFn) -> tuple[str, np.ndarray]:
    encoding = draw(st.sampled_from(SUPPORTED_ENCODINGS))
    channels = CHANNELS[encoding]
    height = draw(st.integers(1, 12))
    width = draw(st.integers(1, 12)) * (2 if channels == 2 else 1)
    dtype = np.uint16 if encoding in ("mono16", "16UC1") else np.uint8
    values = draw(st.binary(min_size=height * width * channels * np.dtype(dtype).itemsize,
                            max_size=height * width * channels * np.dtype(dtype).itemsize))
    array = np.frombuffer(values, dtype=dtype).reshape(height, width, channels)
    return encoding, array[:, :, 0] if channels == 1 else array


@SETTINGS
@given(valid_arrays())
def test_valid_arrays_round_trip_exactly(case: tuple[str, np.ndarray]) -> None:
    encoding, array = case
    np.testing.assert_array_equal(image_to_numpy(numpy_to_image(array, encoding)), array)


@SETTINGS
@given(st.binary(max_size=3000), st.sampled_from(["jpeg", "png", "", "bmp"]))
def test_any_compressed_bytes_decode_or_raise_the_one_error(data: bytes, fmt: str) -> None:
    msg = CompressedImage(format=fmt)
    msg.data = data
    try:
        out = compressed_to_bgr8(msg)
    except ImageConversionError:
        return
    assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8


@SETTINGS
@given(st.integers(1, 4000), st.integers(0, 300))
def test_truncated_jpeg_never_escapes(seed: int, cut: int) -> None:
    rng = np.random.default_rng(seed)
    full = bytes(bgr8_to_compressed(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), "jpeg").data)
    msg = CompressedImage(format="jpeg")
    msg.data = full[: max(len(full) - cut, 0)]
    try:
        out = compressed_to_bgr8(msg)
    except ImageConversionError:
        return
    assert out.shape == (16, 16, 3)
