# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Property-based checks of the face-crop path (preprocessing) with arbitrary images and boxes.

Any box either raises ``ValueError`` or yields a crop of the model's size whose pixels are all taken
from the image (border replication invents none). Non-finite values and zero or negative sizes
must raise; a finite box up to a few times the image must give a crop; a box thousands of times
the image, or 10^12 px away from it, may do either but nothing else (no allocation failure).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emotion_perception.vision.preprocessing import InputSpec, face_crop, preprocess_faces

SPECS = (InputSpec(), InputSpec(size=32, grayscale=False, scale=1.4, shift_y=-0.1), InputSpec(size=8, scale=0.5))


@st.composite
def images(draw: st.DrawFn) -> np.ndarray:
    height, width = draw(st.integers(1, 48)), draw(st.integers(1, 48))
    shape = draw(st.sampled_from(((height, width), (height, width, 1), (height, width, 3))))
    return draw(arrays(np.uint8, shape, elements=st.integers(0, 255)))


def boxes(width: int, height: int) -> st.SearchStrategy[tuple[float, float, float, float]]:
    """Boxes around, far outside and far larger than the image, zero/negative sizes, non-finite values."""
    side = 4 * max(width, height)
    coordinate = st.one_of(st.floats(-3 * side, 3 * side), st.floats(-1e12, 1e12),
                           st.sampled_from((math.nan, math.inf, -math.inf)))
    size = st.one_of(st.floats(-side, side), st.floats(side, 1e12),
                     st.sampled_from((0.0, -0.0, 1e-9, math.nan, math.inf)))
    return st.tuples(coordinate, coordinate, size, size)


def moderate_boxes(width: int, height: int) -> st.SearchStrategy[tuple[float, float, float, float]]:
    """Finite boxes of positive size, from inside the image to a few image sizes away and large."""
    side = 4 * max(width, height)
    coordinate, size = st.floats(-3 * side, 3 * side), st.floats(0.5, side / 1.1)
    return st.tuples(coordinate, coordinate, size, size)


def valid(box: tuple[float, float, float, float]) -> bool:
    return all(math.isfinite(v) for v in box) and box[2] > 0 and box[3] > 0


def moderate(box: tuple[float, float, float, float], image: np.ndarray, spec: InputSpec) -> bool:
    """A finite box whose crop square is at most 4x the image's larger side."""
    return valid(box) and spec.scale * (box[2] + box[3]) / 2 <= 4 * max(image.shape[:2])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), image=images(), spec=st.sampled_from(SPECS))
def test_any_box_gives_a_crop_of_image_pixels_or_a_value_error(data: st.DataObject, image: np.ndarray,
                                                               spec: InputSpec) -> None:
    box = data.draw(boxes(image.shape[1], image.shape[0]))
    if not valid(box):
        with pytest.raises(ValueError, match="face box"):
            face_crop(image, box, spec)
        return
    try:
        crop = face_crop(image, box, spec)
    except ValueError as exc:
        assert not moderate(box, image, spec), f"a moderate box was refused: {exc}"
        assert "face box" in str(exc)
        return
    assert crop.dtype == np.uint8
    assert crop.shape == ((spec.size, spec.size) if spec.grayscale else (spec.size, spec.size, 3))
    source = image if spec.grayscale or image.ndim == 2 or image.shape[2] == 1 else image.reshape(-1, 3)
    if spec.grayscale and image.ndim == 3 and image.shape[2] == 3:
        return  # gray conversion mixes channels; its range is covered by the 1-channel images
    assert source.min() <= crop.min() and crop.max() <= source.max()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), image=images(), spec=st.sampled_from(SPECS), count=st.integers(0, 4))
def test_a_batch_is_one_finite_normalised_crop_per_box(data: st.DataObject, image: np.ndarray, spec: InputSpec,
                                                        count: int) -> None:
    box_list = [data.draw(moderate_boxes(image.shape[1], image.shape[0])) for _ in range(count)]
    batch = preprocess_faces(image, box_list, spec)
    assert batch.shape == (count, spec.channels, spec.size, spec.size) and batch.dtype == np.float32
    assert np.isfinite(batch).all()
    for crop, box in zip(batch, box_list, strict=True):
        expected = (face_crop(image, box, spec).astype(np.float32) / 255.0 - spec.mean) / spec.std
        expected = expected[None] if spec.grayscale else expected.transpose(2, 0, 1)
        np.testing.assert_allclose(crop, expected, atol=1e-5)


@given(image=images())
def test_an_empty_image_is_refused(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="empty image"):
        face_crop(image[:0], (0.0, 0.0, 4.0, 4.0), InputSpec())
