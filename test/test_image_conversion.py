# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""image_conversion against OpenCV's own colour conversions, padding, endianness and bad messages."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from emotion_perception.ros.image_conversion import (
    SUPPORTED_ENCODINGS,
    ImageConversionError,
    ImageTooLargeError,
    bgr8_to_compressed,
    compressed_to_bgr8,
    image_to_bgr8,
    image_to_numpy,
    numpy_to_image,
)

RNG = np.random.default_rng(7)
BGR = RNG.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
GRAY = cv2.cvtColor(BGR, cv2.COLOR_BGR2GRAY)


def _smooth_bgr() -> np.ndarray:
    """A smooth image, so 4:2:2 chroma subsampling loses almost nothing."""
    y, x = np.mgrid[0:24, 0:32]
    return np.stack([x * 7, y * 9, (x + y) * 4], axis=-1).astype(np.uint8)


def _pack_yuv422(bgr: np.ndarray, order: str) -> np.ndarray:
    code = cv2.COLOR_BGR2YUV_YUY2 if order == "yuyv" else cv2.COLOR_BGR2YUV_UYVY
    return cv2.cvtColor(bgr, code)


CASES = {
    "bgr8": (BGR, BGR),
    "rgb8": (cv2.cvtColor(BGR, cv2.COLOR_BGR2RGB), BGR),
    "bgra8": (cv2.cvtColor(BGR, cv2.COLOR_BGR2BGRA), BGR),
    "rgba8": (cv2.cvtColor(BGR, cv2.COLOR_BGR2RGBA), BGR),
    "8UC3": (BGR, BGR),
    "mono8": (GRAY, cv2.cvtColor(GRAY, cv2.COLOR_GRAY2BGR)),
    "8UC1": (BGR[..., 0], cv2.cvtColor(BGR[..., 0].copy(), cv2.COLOR_GRAY2BGR)),
}


@pytest.mark.parametrize("encoding", list(CASES))
def test_round_trip_matches_opencv(encoding: str) -> None:
    native, expected_bgr = CASES[encoding]
    msg = numpy_to_image(native, encoding)
    assert (msg.height, msg.width, msg.encoding) == (24, 32, encoding)
    np.testing.assert_array_equal(image_to_numpy(msg), native)
    np.testing.assert_array_equal(image_to_bgr8(msg), expected_bgr)


@pytest.mark.parametrize("encoding", ["mono16", "16UC1"])
def test_mono16_round_trip_and_scaling(encoding: str) -> None:
    native = RNG.integers(0, 65536, size=(10, 12), dtype=np.uint16)
    msg = numpy_to_image(native, encoding)
    np.testing.assert_array_equal(image_to_numpy(msg), native)
    expected = cv2.cvtColor((native >> 8).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    np.testing.assert_array_equal(image_to_bgr8(msg), expected)


def test_mono16_big_endian_is_swapped() -> None:
    native = RNG.integers(0, 65536, size=(5, 6), dtype=np.uint16)
    msg = Image(height=5, width=6, encoding="mono16", is_bigendian=1, step=12)
    msg.data = native.astype(">u2").tobytes()
    out = image_to_numpy(msg)
    np.testing.assert_array_equal(out, native)
    assert out.dtype == np.uint16 and out.dtype.isnative


@pytest.mark.parametrize(("encoding", "order"), [("yuv422_yuy2", "yuyv"), ("yuv422", "uyvy")])
def test_yuv422_matches_opencv_and_source(encoding: str, order: str) -> None:
    bgr = _smooth_bgr()
    packed = _pack_yuv422(bgr, order)
    msg = numpy_to_image(packed, encoding)
    code = cv2.COLOR_YUV2BGR_YUY2 if order == "yuyv" else cv2.COLOR_YUV2BGR_UYVY
    out = image_to_bgr8(msg)
    np.testing.assert_array_equal(out, cv2.cvtColor(packed, code))
    assert np.abs(out.astype(int) - bgr.astype(int)).mean() < 3.0


@pytest.mark.parametrize("encoding", ["bgr8", "mono8", "mono16", "yuv422"])
def test_row_padding_is_removed(encoding: str) -> None:
    dtype = np.uint16 if encoding == "mono16" else np.uint8
    channels = {"bgr8": 3, "mono8": 1, "mono16": 1, "yuv422": 2}[encoding]
    native = RNG.integers(0, 200, size=(7, 10, channels)).astype(dtype)
    row = native.reshape(7, -1).view(np.uint8)
    padded = np.zeros((7, row.shape[1] + 14), np.uint8)
    padded[:, : row.shape[1]] = row
    msg = Image(height=7, width=10, encoding=encoding, step=padded.shape[1])
    msg.data = padded.tobytes()
    np.testing.assert_array_equal(image_to_numpy(msg), native.squeeze(-1) if channels == 1 else native)


def test_supported_encodings_are_all_tested() -> None:
    tested = set(CASES) | {"mono16", "16UC1", "yuv422_yuy2", "yuv422"}
    assert set(SUPPORTED_ENCODINGS) == tested


def _image(**fields: object) -> Image:
    base = {"height": 4, "width": 4, "encoding": "bgr8", "step": 12, "data": bytes(48)}
    base.update(fields)
    msg = Image(height=base["height"], width=base["width"], encoding=base["encoding"], step=base["step"])
    msg.data = base["data"]
    return msg


MALFORMED = [
    ("unknown encoding", _image(encoding="bayer_rggb8"), "unsupported encoding 'bayer_rggb8'"),
    ("empty encoding", _image(encoding=""), "unsupported encoding ''"),
    ("zero width", _image(width=0, step=0, data=b""), "zero size"),
    ("zero height", _image(height=0, data=b""), "zero size"),
    ("step too small", _image(step=11, data=bytes(44)), "step 11 is smaller than one row"),
    ("data too short", _image(data=bytes(47)), "data has 47 bytes, expected step x height = 12 x 4 = 48"),
    ("data too long", _image(data=bytes(60)), "data has 60 bytes"),
    ("no data", _image(data=b""), "data has 0 bytes"),
    ("odd width yuv", _image(encoding="yuv422", width=3, step=6, data=bytes(24)), "even width"),
    ("odd step mono16", _image(encoding="mono16", step=9, data=bytes(36)), "not a multiple"),
    ("too large", _image(width=100_000, height=100_000, step=300_000), "larger than the limit"),
]


@pytest.mark.parametrize(("msg", "reason"), [case[1:] for case in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_messages_raise_one_clear_error(msg: Image, reason: str) -> None:
    with pytest.raises(ImageConversionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        image_to_bgr8(msg)


def test_numpy_to_image_checks_shape_and_dtype() -> None:
    with pytest.raises(ImageConversionError, match="3 channel"):
        numpy_to_image(np.zeros((4, 4), np.uint8), "bgr8")
    with pytest.raises(ImageConversionError, match="dtype uint16"):
        numpy_to_image(np.zeros((4, 4), np.uint8), "mono16")


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_compressed_round_trip(fmt: str) -> None:
    image = cv2.resize(_smooth_bgr(), (64, 48))
    msg = bgr8_to_compressed(image, fmt)
    out = compressed_to_bgr8(msg)
    assert out.shape == image.shape
    assert np.abs(out.astype(int) - image.astype(int)).mean() < (0.01 if fmt == "png" else 4.0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no data"),
        (b"\xff\xd8\xff\xe0garbage" * 3, "cannot decode"),
        (bytes(range(256)), "cannot decode"),
    ],
)
def test_bad_compressed_data_raises(data: bytes, reason: str) -> None:
    msg = CompressedImage(format="jpeg")
    msg.data = data
    with pytest.raises(ImageConversionError, match=reason):
        compressed_to_bgr8(msg)


def test_truncated_jpeg_raises_or_decodes_partially() -> None:
    full = bgr8_to_compressed(cv2.resize(_smooth_bgr(), (64, 48)), "jpeg").data
    msg = CompressedImage(format="jpeg")
    msg.data = bytes(full[: len(full) // 3])
    try:
        out = compressed_to_bgr8(msg)
    except ImageConversionError:
        return
    assert out.shape == (48, 64, 3)


def test_huge_compressed_header_is_refused_before_decoding() -> None:
    image = bgr8_to_compressed(np.zeros((8, 8, 3), np.uint8), "png")
    raw = bytearray(image.data)
    raw[16:24] = (40000).to_bytes(4, "big") + (40000).to_bytes(4, "big")
    image.data = bytes(raw)
    with pytest.raises(ImageTooLargeError, match="larger than the limit"):
        compressed_to_bgr8(image)


def test_only_an_image_over_the_limit_is_too_large() -> None:
    """The node counts these as ``too_large``, every other refusal as ``conversion``."""
    jpeg = bgr8_to_compressed(cv2.resize(_smooth_bgr(), (64, 48)), "jpeg")
    with pytest.raises(ImageTooLargeError, match="64x48 pixels is larger than the limit of 3000"):
        compressed_to_bgr8(jpeg, max_pixels=3000)
    assert compressed_to_bgr8(jpeg, max_pixels=64 * 48).shape == (48, 64, 3)
    with pytest.raises(ImageTooLargeError):
        image_to_bgr8(numpy_to_image(np.zeros((48, 64, 3), np.uint8)), max_pixels=3000)
    with pytest.raises(ImageTooLargeError):  # the limit is checked first, whatever else is wrong
        image_to_bgr8(_image(encoding="no_such_encoding", width=100_000, height=100_000, step=0, data=b""))
    for name, msg, _ in MALFORMED:
        if name != "too large":
            with pytest.raises(ImageConversionError) as raised:
                image_to_bgr8(msg)
            assert not isinstance(raised.value, ImageTooLargeError), name


def _headers_only(msg: CompressedImage, width: int, height: int) -> CompressedImage:
    """``msg`` claiming ``width`` x ``height`` in its header, its pixel data cut off: only a header check sees it."""
    raw = bytearray(msg.data)
    if msg.format == "png":
        raw[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
        raw = raw[:40]
    else:
        sof = next(i for i in range(2, len(raw) - 1) if raw[i] == 0xFF and raw[i + 1] in (0xC0, 0xC2))
        raw[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
        raw = raw[:sof + 12]
    cut = CompressedImage(format=msg.format)
    cut.data = bytes(raw)
    return cut


def _segments_reordered(jpeg: bytes) -> bytes:
    """The same JPEG with its Huffman tables (DHT, 0xC4, a marker in the SOF range) moved before the frame header."""
    pos, segments = 2, []
    while jpeg[pos + 1] != 0xDA:  # up to the start of scan
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        segments.append(jpeg[pos:pos + 2 + length])
        pos += 2 + length
    tables = [s for s in segments if s[1] == 0xC4]
    return jpeg[:2] + b"".join(tables + [s for s in segments if s[1] != 0xC4]) + jpeg[pos:]


@pytest.mark.parametrize("fmt", ["png", "jpeg", "progressive jpeg", "jpeg, tables first"])
def test_a_compressed_header_is_read_for_its_exact_size_before_decoding(fmt: str) -> None:
    image = RNG.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)  # 37 x 23: width and height differ
    if fmt == "progressive jpeg":
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
        assert ok
        msg = CompressedImage(format="jpeg")
        msg.data = encoded.tobytes()
    else:
        msg = bgr8_to_compressed(image, fmt.split(",")[0])
    if fmt == "jpeg, tables first":
        msg.data = _segments_reordered(bytes(msg.data))
    assert compressed_to_bgr8(msg, max_pixels=37 * 23).shape == (23, 37, 3)  # the limit itself is allowed
    with pytest.raises(ImageTooLargeError, match="compressed image of 37x23 pixels is larger than the limit of 850"):
        compressed_to_bgr8(msg, max_pixels=37 * 23 - 1)
    bomb = _headers_only(msg, 30_000, 20_000)
    with pytest.raises(ImageTooLargeError, match="30000x20000 pixels is larger than the limit of 33177600 pixels"):
        compressed_to_bgr8(bomb)
    fits = _headers_only(msg, 3, 2)  # a small header over cut data: decoding it is what fails
    with pytest.raises(ImageConversionError, match="cannot decode") as refused:
        compressed_to_bgr8(fits)
    assert not isinstance(refused.value, ImageTooLargeError)


def test_bad_compressed_data_says_so_in_its_own_words() -> None:
    empty = CompressedImage(format="png")
    with pytest.raises(ImageConversionError) as refused:
        compressed_to_bgr8(empty)
    assert str(refused.value) == "compressed image has no data"
    short = CompressedImage(format="png")
    short.data = b"\x89PNG\r\n\x1a\n" + bytes(15)  # a PNG signature too short to hold a size
    with pytest.raises(ImageConversionError, match="cannot decode 23 bytes of compressed image"):
        compressed_to_bgr8(short)


@pytest.mark.parametrize(("shape", "reason"), [
    ((0, 6, 3), r"image has zero size \(6x0\)"),
    ((4, 0, 3), r"image has zero size \(0x4\)"),
])
def test_numpy_to_image_refuses_an_empty_array_naming_its_size(shape: tuple, reason: str) -> None:
    with pytest.raises(ImageConversionError, match=reason):
        numpy_to_image(np.zeros(shape, np.uint8), "bgr8")


def test_numpy_to_image_refuses_an_odd_width_for_packed_yuv() -> None:
    with pytest.raises(ImageConversionError, match="yuv422 needs an even width, got 5"):
        numpy_to_image(np.zeros((4, 5, 2), np.uint8), "yuv422")
    assert numpy_to_image(np.zeros((5, 4, 2), np.uint8), "yuv422").width == 4  # an odd height is fine


@pytest.mark.parametrize("encoding", ["bgr8", "mono16"])
def test_numpy_to_image_builds_a_message_that_serialises(encoding: str) -> None:
    array = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3) if encoding == "bgr8" else (
        np.arange(24, dtype=np.uint16).reshape(4, 6) * 1000)
    header = Header(frame_id="camera_optical_frame")
    header.stamp.sec = 42
    for given in (header, None):
        msg = deserialize_message(serialize_message(numpy_to_image(array, encoding, given)), Image)
        assert msg.header == (given or Header())
        assert msg.is_bigendian == 0  # this machine's (little-endian) order, 16-bit samples included
        assert np.array_equal(image_to_numpy(msg), array)


def _face_jpeg() -> CompressedImage:
    """A real face (test/data's Pexels frame, 160 x 90) as a baseline JPEG."""
    frame = cv2.imread(str(Path(__file__).parent / "data" / "pexels_sad_030.jpg"), cv2.IMREAD_COLOR)
    return bgr8_to_compressed(cv2.resize(frame, (160, 90), interpolation=cv2.INTER_AREA), "jpeg")


def _sof_at(jpeg: bytes) -> int:
    return next(i for i in range(2, len(jpeg) - 1) if jpeg[i] == 0xFF and jpeg[i + 1] == 0xC0)


#: JPEG frame headers (ITU T.81 B.1.1.3): every SOFn, 0xC0 to 0xCF, except DHT (C4), JPG (C8) and DAC (CC).
FRAME_HEADERS = [m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC)]


@pytest.mark.parametrize("marker", range(0xBE, 0xD2))
def test_every_kind_of_jpeg_frame_header_gives_the_size_and_no_other_segment_does(marker: int) -> None:
    bomb = _headers_only(_face_jpeg(), 30_000, 20_000)
    raw = bytearray(bomb.data)
    raw[_sof_at(bytes(raw)) + 1] = marker
    bomb.data = bytes(raw)
    if marker in FRAME_HEADERS:  # baseline, extended, progressive, lossless, hierarchical, arithmetic
        with pytest.raises(ImageTooLargeError, match="30000x20000 pixels"):
            compressed_to_bgr8(bomb)
    else:  # a table or other segment holds no size: the bytes there are not read as one
        with pytest.raises(ImageConversionError, match="cannot decode") as refused:
            compressed_to_bgr8(bomb)
        assert not isinstance(refused.value, ImageTooLargeError)


def test_a_header_cut_right_after_the_size_is_still_read_and_one_byte_shorter_is_not() -> None:
    jpeg = _headers_only(_face_jpeg(), 30_000, 20_000)
    sof = _sof_at(bytes(jpeg.data))
    png = _headers_only(bgr8_to_compressed(cv2.imdecode(np.frombuffer(_face_jpeg().data, np.uint8),
                                                        cv2.IMREAD_COLOR), "png"), 30_000, 20_000)
    for msg, end in ((jpeg, sof + 9), (png, 24)):  # JPEG: marker, length, precision, height, width; PNG: IHDR size
        whole = CompressedImage(format=msg.format)
        whole.data = bytes(msg.data)[:end]
        with pytest.raises(ImageTooLargeError, match="30000x20000 pixels"):
            compressed_to_bgr8(whole)
        short = CompressedImage(format=msg.format)
        short.data = bytes(msg.data)[:end - 1]
        with pytest.raises(ImageConversionError, match="cannot decode") as refused:
            compressed_to_bgr8(short)
        assert not isinstance(refused.value, ImageTooLargeError)


def test_a_jpeg_whose_segments_lose_their_markers_is_not_read_past_the_break() -> None:
    """Parsing stops at a byte that is not a marker: a size further on is not trusted (decoding decides)."""
    bomb = _headers_only(_face_jpeg(), 30_000, 20_000)
    raw = bytes(bomb.data)
    broken = CompressedImage(format="jpeg")
    broken.data = raw[:2] + b"\x00" + raw[2:]  # a stray byte where the first segment's marker belongs
    with pytest.raises(ImageConversionError, match="cannot decode") as refused:
        compressed_to_bgr8(broken)
    assert not isinstance(refused.value, ImageTooLargeError)


def test_a_real_face_decodes_to_its_size_with_the_limit_at_its_edge() -> None:
    jpeg = _face_jpeg()
    assert compressed_to_bgr8(jpeg, max_pixels=160 * 90).shape == (90, 160, 3)
    with pytest.raises(ImageTooLargeError, match="160x90 pixels is larger than the limit of 14399 pixels"):
        compressed_to_bgr8(jpeg, max_pixels=160 * 90 - 1)


def _face_bgr() -> np.ndarray:
    return cv2.imdecode(np.frombuffer(_face_jpeg().data, np.uint8), cv2.IMREAD_COLOR)


def test_raw_pixels_are_a_view_of_the_message_in_native_order_and_the_limit_is_inclusive() -> None:
    face = _face_bgr()
    gray16 = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    for array, encoding in ((face, "bgr8"), (gray16, "mono16")):
        msg = numpy_to_image(array, encoding)
        pixels = image_to_numpy(msg)
        np.testing.assert_array_equal(pixels, array)
        assert pixels.dtype.isnative and np.shares_memory(pixels, np.frombuffer(msg.data, np.uint8)), encoding
    big = numpy_to_image(gray16.byteswap(), "mono16")
    big.is_bigendian = 1
    swapped = image_to_numpy(big)
    assert swapped.dtype.isnative and swapped.dtype == np.uint16
    np.testing.assert_array_equal(swapped, gray16)
    msg = numpy_to_image(face)
    assert image_to_bgr8(msg, max_pixels=160 * 90).shape == (90, 160, 3)  # the limit itself is allowed
    with pytest.raises(ImageTooLargeError, match="image of 160x90 pixels is larger than the limit of 14399 pixels"):
        image_to_bgr8(msg, max_pixels=160 * 90 - 1)


def test_an_unknown_encoding_names_every_supported_one() -> None:
    with pytest.raises(ImageConversionError, match="supported: " + ", ".join(SUPPORTED_ENCODINGS) + "$"):
        image_to_bgr8(_image(encoding="bayer_rggb8"))


def test_a_header_size_is_width_times_height_of_full_32_bit_png_fields() -> None:
    png = bgr8_to_compressed(_face_bgr(), "png")
    narrow = _headers_only(png, 2, 3000)  # 6000 pixels: under the limit, so decoding decides (and fails)
    with pytest.raises(ImageConversionError, match="cannot decode") as refused:
        compressed_to_bgr8(narrow, max_pixels=10_000)
    assert not isinstance(refused.value, ImageTooLargeError)
    for width, height in ((2**24 + 1, 1), (1, 2**24 + 1)):  # a size past 24 bits is read whole
        with pytest.raises(ImageTooLargeError, match=f"{width}x{height} pixels"):
            compressed_to_bgr8(_headers_only(png, width, height), max_pixels=1000)


def test_a_jpeg_with_a_long_segment_before_its_frame_header_is_still_sized_before_decoding() -> None:
    """An Exif (APP1) segment of kilobytes before the frame header, as cameras write: skipped by its 16-bit length."""
    bomb = _headers_only(_face_jpeg(), 30_000, 20_000)
    exif = b"\xff\xe1" + (1002).to_bytes(2, "big") + b"Exif\x00\x00" + bytes(994)
    bomb.data = bytes(bomb.data)[:2] + exif + bytes(bomb.data)[2:]
    with pytest.raises(ImageTooLargeError, match="30000x20000 pixels"):
        compressed_to_bgr8(bomb)


def test_an_image_whose_header_is_not_read_is_still_limited_after_decoding() -> None:
    """A fill byte before the first marker (T.81 B.1.1.2) hides the size from the header check; decoding finds it."""
    jpeg = _face_jpeg()
    filled = CompressedImage(format="jpeg")
    filled.data = bytes(jpeg.data)[:2] + b"\xff" + bytes(jpeg.data)[2:]
    assert compressed_to_bgr8(filled, max_pixels=160 * 90).shape == (90, 160, 3)
    with pytest.raises(ImageTooLargeError, match=r"^compressed image of 160x90 pixels is larger than the limit"
                                                 r" of 14399 pixels$"):
        compressed_to_bgr8(filled, max_pixels=160 * 90 - 1)
    with pytest.raises(ImageTooLargeError, match="of 90x160 pixels"):
        compressed_to_bgr8(_transposed(filled), max_pixels=100)


def _transposed(msg: CompressedImage) -> CompressedImage:
    image = compressed_to_bgr8(msg)
    out = bgr8_to_compressed(np.ascontiguousarray(image.transpose(1, 0, 2)), "jpeg")
    out.data = bytes(out.data)[:2] + b"\xff" + bytes(out.data)[2:]
    return out


def test_encoding_defaults_to_jpeg_at_quality_90_and_quality_is_applied() -> None:
    face = _face_bgr()
    default = bgr8_to_compressed(face, header=Header(frame_id="camera"))
    assert default.format == "jpeg" and bytes(default.data[:2]) == b"\xff\xd8"
    assert default.header.frame_id == "camera"
    assert bytes(default.data) == bytes(bgr8_to_compressed(face, "jpeg", quality=90).data)
    sizes = [len(bgr8_to_compressed(face, "jpeg", quality=q).data) for q in (10, 50, 90, 95, 100)]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
    png = bgr8_to_compressed(face, "png", Header(frame_id="png_camera"))
    assert bytes(png.data[:8]) == b"\x89PNG\r\n\x1a\n" and png.header.frame_id == "png_camera"
    assert np.array_equal(compressed_to_bgr8(png), face)  # lossless


def test_encoding_refuses_other_formats_and_says_when_opencv_cannot_encode() -> None:
    face = _face_bgr()
    with pytest.raises(ImageConversionError, match=r"^unsupported compressed format 'bmp'; use 'jpeg' or 'png'$"):
        bgr8_to_compressed(face, "bmp")
    strip = np.ascontiguousarray(np.tile(face[:1], (1, 440, 1)))  # 70 400 px wide: past JPEG's 65 500
    with pytest.raises(ImageConversionError, match=r"could not encode an image of shape \(1, 70400, 3\) as jpeg"):
        bgr8_to_compressed(strip, "jpeg")
