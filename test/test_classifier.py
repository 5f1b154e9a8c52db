# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The shipped valence model: loading, load errors, calibrated batched inference on real faces."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from helpers import DATA, load

from emotion_perception.reaction import CLASS_NAMES, Valence
from emotion_perception.vision.classifier import ValenceClassifier
from emotion_perception.vision.detection import YuNetDetector
from emotion_perception.vision.model import (
    DEFAULT_MODEL_PATH,
    ModelCard,
    ModelLoadError,
    ValenceNet,
    load_model,
)
from emotion_perception.vision.model_card import WEIGHTS_SHA256_KEY
from emotion_perception.vision.preprocessing import face_crop, preprocess_faces

NEG, POS = Valence.NEGATIVE.index, Valence.POSITIVE.index


@pytest.fixture(scope="module")
def classifier() -> ValenceClassifier:
    return ValenceClassifier()


@pytest.fixture(scope="module")
def faces() -> dict[str, tuple[np.ndarray, tuple[float, float, float, float]]]:
    detector = YuNetDetector()
    out = {}
    for name in ("pexels_sad_030", "pexels_sad_045", "pexels_happy_330", "pexels_happy_360"):
        frame = load(f"{name}.jpg")
        detections = detector.detect(frame)
        assert len(detections) == 1, name
        out[name] = (frame, detections[0].box)
    return out


def test_shipped_model_and_card_load() -> None:
    assert DEFAULT_MODEL_PATH.is_file() and DEFAULT_MODEL_PATH.stat().st_size < 10 * 2**20
    model, card = load_model()
    assert tuple(card.classes) == CLASS_NAMES and not card.preliminary
    assert card.metrics["macro_f1"] >= 0.85 and card.metrics["split"] == "test"
    assert 0 < card.temperature < 10 and card.spec.size == 48
    assert not model.training


def test_happy_and_sad_real_faces_land_on_the_right_side(classifier, faces) -> None:
    for name, (frame, box) in faces.items():
        probs = classifier.predict(frame, [box])[0]
        assert probs.shape == (3,) and abs(probs.sum() - 1) < 1e-5
        if "happy" in name:
            assert probs.argmax() == POS and probs[POS] > probs[NEG], (name, probs)
        else:
            assert probs.argmax() == NEG and probs[NEG] > probs[POS], (name, probs)


def test_batch_equals_single_faces_and_crop_path(classifier, faces) -> None:
    (sad, sad_box), (happy, happy_box) = faces["pexels_sad_030"], faces["pexels_happy_330"]
    canvas = np.zeros((360, 1280, 3), np.uint8)
    canvas[:, :640], canvas[:, 640:] = sad, happy
    both = classifier.predict(canvas, [sad_box, (happy_box[0] + 640, *happy_box[1:])])
    assert both.shape == (2, 3)
    assert np.allclose(both[0], classifier.predict(sad, [sad_box])[0], atol=1e-5)
    assert np.allclose(both[1], classifier.predict_crop(face_crop(happy, happy_box, classifier.spec)), atol=1e-5)
    assert classifier.predict(sad, []).shape == (0, 3)
    assert classifier.predict_batch(np.zeros((0, 1, 48, 48), np.float32)).shape == (0, 3)
    with pytest.raises(ValueError, match="shape"):
        classifier.predict_batch(np.zeros((2, 3, 48, 48), np.float32))


def test_every_backend_gives_the_eager_model_s_output(faces) -> None:
    frame, box = faces["pexels_sad_045"]
    eager = ValenceClassifier(backend="eager").predict(frame, [box])
    fp32 = ValenceClassifier(precision="fp32")
    assert fp32.backend == "onnxruntime" and fp32.precision == "fp32" and not fp32.uses_torch
    assert np.allclose(fp32.predict(frame, [box]), eager, atol=1e-4)
    assert np.allclose(ValenceClassifier(backend="torchscript").predict(frame, [box]), eager, atol=1e-4)
    with pytest.raises(ValueError, match="backend"):
        ValenceClassifier(backend="tensorrt")


def test_the_shipped_int8_export_runs_by_default_and_decides_as_the_float_model(classifier, faces) -> None:
    assert classifier.precision == "int8" and not classifier.uses_torch
    fp32 = ValenceClassifier(precision="fp32")
    for frame, box in faces.values():
        int8, exact = classifier.predict(frame, [box])[0], fp32.predict(frame, [box])[0]
        assert int8.argmax() == exact.argmax() and np.abs(int8 - exact).max() < 0.05, (int8, exact)
    assert classifier.card.metrics["int8"]["test_int8"]["macro_f1"] >= 0.88  # python -m training.quantize


def test_an_int8_export_runs_only_for_the_weights_it_was_made_from(tmp_path: Path) -> None:
    for suffix in (".pt", ".json", ".onnx"):
        shutil.copy(DEFAULT_MODEL_PATH.with_suffix(suffix), tmp_path / f"m{suffix}")
    with pytest.raises(ModelLoadError, match=r"training\.quantize"):
        ValenceClassifier(tmp_path / "m.pt", precision="int8")
    assert ValenceClassifier(tmp_path / "m.pt").precision == "fp32"  # auto: none there
    stale = onnx.load(str(DEFAULT_MODEL_PATH.with_suffix(".int8.onnx")))
    onnx.helper.set_model_props(stale, {WEIGHTS_SHA256_KEY: "0" * 64})
    onnx.save(stale, str(tmp_path / "m.int8.onnx"))
    assert ValenceClassifier(tmp_path / "m.pt").precision == "fp32"
    with pytest.raises(ModelLoadError, match="no int8 export made from"):
        ValenceClassifier(tmp_path / "m.pt", precision="int8")
    with pytest.raises(ModelLoadError, match="onnxruntime only"):
        ValenceClassifier(tmp_path / "m.pt", backend="eager", precision="int8")
    with pytest.raises(ValueError, match="precision"):
        ValenceClassifier(precision="int4")


def test_temperature_and_mirror_follow_the_card(tmp_path: Path, faces) -> None:
    card = json.loads(DEFAULT_MODEL_PATH.with_suffix(".json").read_text())
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / "m.pt")
    card.update(temperature=1.0, tta_flip=False, class_bias=None)
    (tmp_path / "m.json").write_text(json.dumps(card))
    plain = ValenceClassifier(tmp_path / "m.pt")
    frame, box = faces["pexels_happy_360"]
    x = torch.from_numpy(preprocess_faces(frame, [box], plain.spec))
    with torch.inference_mode():
        expected = torch.softmax(load_model(tmp_path / "m.pt")[0](x), dim=1).numpy()
    assert np.allclose(plain.predict(frame, [box]), expected, atol=1e-4)


def test_mirror_can_be_switched_off_with_its_own_temperature(classifier, faces) -> None:
    single = ValenceClassifier(mirror=False)
    assert classifier.tta_flip and not single.tta_flip
    assert classifier.temperature == classifier.card.temperature
    assert single.temperature == classifier.card.temperature_single != classifier.card.temperature
    frame, box = faces["pexels_happy_330"]
    assert single.predict(frame, [box])[0].argmax() == POS


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"nope\.pt does not exist"):
        load_model(tmp_path / "nope.pt")
    with pytest.raises(ModelLoadError, match=r"nope\.pt"):
        ValenceClassifier(tmp_path / "nope.pt")


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    data = DEFAULT_MODEL_PATH.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), tmp_path / "cut.json")
    with pytest.raises(ModelLoadError, match=r"cut\.pt is corrupt or truncated"):
        load_model(tmp_path / "cut.pt")
    (tmp_path / "junk.pt").write_bytes(b"definitely not a torch file")
    with pytest.raises(ModelLoadError, match=r"junk\.pt is corrupt or truncated"):
        load_model(tmp_path / "junk.pt")


def test_wrong_architecture_is_a_clear_error(tmp_path: Path) -> None:
    torch.save(ValenceNet(widths=(16, 32, 64)).state_dict(), tmp_path / "small.pt")
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), tmp_path / "small.json")
    with pytest.raises(ModelLoadError, match=r"small\.pt does not fit architecture ValenceNet"):
        load_model(tmp_path / "small.pt")


def test_missing_or_invalid_card_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / "m.pt")
    with pytest.raises(ModelLoadError, match=r"m\.json is missing"):
        load_model(tmp_path / "m.pt")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match=r"m\.json is invalid"):
        load_model(tmp_path / "m.pt")
    card = ModelCard(classes=["negative", "positive", "neutral"])
    (tmp_path / "m.json").write_text(card.to_json())
    with pytest.raises(ModelLoadError, match="classes must be"):
        load_model(tmp_path / "m.pt")


def test_shipped_model_runs_without_importing_torch() -> None:
    code = (
        "import sys, cv2\n"
        "from emotion_perception.vision.recognizer import EmotionRecognizer\n"
        "recognizer = EmotionRecognizer()\n"
        f"reactions = recognizer.run(cv2.imread({str(DATA / 'pexels_happy_330.jpg')!r}))\n"
        "assert len(reactions) == 1 and reactions[0].valence.name == 'POSITIVE', reactions\n"
        "assert not recognizer.classifier.uses_torch\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_an_onnx_export_of_other_weights_is_not_used(tmp_path: Path, faces) -> None:
    for suffix in (".pt", ".json", ".onnx"):
        shutil.copy(DEFAULT_MODEL_PATH.with_suffix(suffix), tmp_path / f"m{suffix}")
    graph = onnx.load(str(tmp_path / "m.onnx"))
    onnx.helper.set_model_props(graph, {WEIGHTS_SHA256_KEY: "0" * 64})
    onnx.save(graph, str(tmp_path / "m.onnx"))
    stale = ValenceClassifier(tmp_path / "m.pt")
    assert stale.uses_torch and stale.backend == "onnxruntime"
    frame, box = faces["pexels_sad_030"]
    exact = ValenceClassifier(precision="fp32").predict(frame, [box])
    assert np.allclose(stale.predict(frame, [box]), exact, atol=1e-4)
    (tmp_path / "m.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(ModelLoadError, match=r"m\.onnx is corrupt"):
        ValenceClassifier(tmp_path / "m.pt")
