# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The in-the-wild proxy (training.proxy_eval) and the card's decision rule (class_bias)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import load

from emotion_perception.vision.classifier import ValenceClassifier, softmax
from emotion_perception.vision.model_card import DEFAULT_MODEL_PATH, ModelCard, load_card
from emotion_perception.vision.preprocessing import face_crop
from emotion_perception.vision.recognizer import EmotionRecognizer
from training.datasets import FaceSet
from training.proxy_eval import (
    CAMERA_SPLITS,
    CROP_KINDS,
    EnsembleClassifier,
    Variant,
    adopt,
    camera_scene,
    camera_sets,
    decide,
    decode,
    encode,
    evaluate_variant,
    fit_bias,
    fit_crop,
    paired_bootstrap,
    scene_crops,
    scene_log_probs,
    scores,
    table,
)


@pytest.fixture(scope="module")
def fer_like_faces() -> FaceSet:
    """48x48 gray face crops of real frames (the clip's), cut the way FER faces are framed."""
    recognizer = EmotionRecognizer()
    images = []
    for name in ("pexels_happy_330.jpg", "pexels_sad_030.jpg"):
        frame = load(name)
        face = recognizer.detect(frame)[0]
        images.append(face_crop(frame, face.box, recognizer.classifier.spec))
    return FaceSet(images, np.eye(3)[[2, 0]], np.array(["test", "test"]), np.array(["a", "b"]), "fixtures")


def test_camera_scene_is_deterministic_and_camera_sized(fer_like_faces: FaceSet) -> None:
    face = fer_like_faces.images[0]
    first, params = camera_scene(face, np.random.default_rng([0, 1]))
    again, _ = camera_scene(face, np.random.default_rng([0, 1]))
    other, _ = camera_scene(face, np.random.default_rng([0, 2]))
    assert first.shape == (480, 640, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert 80 <= params["face_side"] <= 250 and 40 <= params["jpeg"] <= 95


def test_cached_crops_give_what_the_plain_api_reports(fer_like_faces: FaceSet, tmp_path: Path) -> None:
    """The proxy's fast path (detect once, cache crops) must equal ``EmotionRecognizer().run`` per scene."""
    recognizer = EmotionRecognizer()
    proxy = scene_crops(fer_like_faces, seed=3, spec=recognizer.classifier.spec, cache=tmp_path / "c.npz")
    assert proxy.found.all()
    reloaded = scene_crops(fer_like_faces, seed=3, spec=recognizer.classifier.spec, cache=tmp_path / "c.npz")
    assert np.array_equal(reloaded.crops, proxy.crops) and reloaded.params == proxy.params
    fast = softmax(scene_log_probs(recognizer.classifier, proxy) + recognizer.classifier.class_bias)
    for index, face in enumerate(fer_like_faces.images):
        frame, _ = camera_scene(face, np.random.default_rng([3, index]))
        recognizer.reset()
        reactions = recognizer.run(frame)
        largest = max(reactions, key=lambda r: r.box[2] * r.box[3])
        np.testing.assert_allclose(fast[index], largest.probabilities, atol=1e-5)
    assert (1.1, False) in CROP_KINDS


def test_a_cache_of_other_crop_kinds_is_made_again_not_misread(fer_like_faces: FaceSet, tmp_path: Path) -> None:
    spec, cache = ValenceClassifier().spec, tmp_path / "c.npz"
    proxy = scene_crops(fer_like_faces, seed=3, spec=spec, cache=cache)
    with np.load(cache) as stored:
        old = {k: stored[k] for k in stored.files}
    np.savez_compressed(cache, **old | {"crops": old["crops"][:, ::-1].copy(), "kinds": old["kinds"][::-1].copy()})
    again = scene_crops(fer_like_faces, seed=3, spec=spec, cache=cache)
    assert np.array_equal(again.crops, proxy.crops)
    with np.load(cache) as stored:
        assert np.array_equal(stored["kinds"], np.asarray(CROP_KINDS, np.float32))


@pytest.fixture()
def proxy_inputs(fer_like_faces: FaceSet, tmp_path: Path) -> tuple:
    """(sets, camera, cached, args) for :func:`evaluate_variant`: the two real faces as every split, labelled
    correctly under FER+ and with the smiling face called negative under the second protocol, and a two-frame
    clip (crying, then laughing)."""
    expression = FaceSet(fer_like_faces.images, np.eye(3)[[0, 0]], fer_like_faces.splits, fer_like_faces.hashes,
                         "fixtures")  # the smiling face labelled negative, as a second protocol may
    sets = {"val": fer_like_faces, "test": fer_like_faces, "val_fer2013": expression, "test_fer2013": expression}
    camera = camera_sets(sets, limit=0, seed=3)
    spec = ValenceClassifier().spec
    cached = {split: scene_crops(camera[split], 3, spec, None) for split in CAMERA_SPLITS}
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (640, 480))
    for name in ("pexels_sad_030.jpg", "pexels_happy_330.jpg"):
        writer.write(cv2.resize(load(name), (640, 480)))
    writer.release()
    labels = tmp_path / "clip.labels.json"
    labels.write_text(json.dumps({"segments": [{"what": "crying", "valence": "negative", "start": 0.0, "end": 0.5},
                                               {"what": "laughing", "valence": "positive", "start": 0.5, "end": 1.0}]}))
    return sets, camera, cached, argparse.Namespace(threads=1, clip=clip, clip_labels=labels)


def test_a_variant_is_scored_on_each_camera_split_with_that_splits_own_labels(proxy_inputs: tuple) -> None:
    """The expression-labelled PrivateTest scenes are scored against the original FER2013 labels, not FER+'s."""
    assert set(proxy_inputs[1]) == set(CAMERA_SPLITS)
    result = evaluate_variant(Variant("shipped"), *proxy_inputs)
    assert result["camera_proxy_privatetest"]["accuracy"] == 1.0
    assert result["camera_proxy_privatetest_fer2013"]["accuracy"] == 0.5
    assert result["fer_privatetest_fer2013"]["accuracy"] == 0.5
    assert {k: v["share_correct"] for k, v in result["clip"]["segments"].items()} == {"crying": 1.0, "laughing": 1.0}
    assert table({"shipped": result}).splitlines()[-1].endswith("| 0.222 (0.667) |")
    assert result["per_face"]["camera_proxy_privatetest_fer2013"] == "+-"  # each face's answer, for paired tests
    assert result["clip"]["per_frame_valence"] == "-+"


def test_adopting_a_variant_makes_its_rule_the_cards_default_and_the_api_serves_it(
        proxy_inputs: tuple, tmp_path: Path) -> None:
    model = tmp_path / "adopted.pt"
    for suffix in (".pt", ".onnx", ".int8.onnx", ".json"):
        model.with_suffix(suffix).write_bytes(Path(DEFAULT_MODEL_PATH).with_suffix(suffix).read_bytes())
    shipped = Path(DEFAULT_MODEL_PATH).with_suffix(".json").read_text()
    variant = Variant.parse(f"negative_prior:model={model},bias=0.35/0/0,mirror=0")
    result = evaluate_variant(variant, *proxy_inputs)
    assert adopt(variant, result) == model.with_suffix(".json")
    card = load_card(model)
    assert card.class_bias == [0.35, 0.0, 0.0] and card.tta_flip is False
    proxy = card.metrics["in_the_wild_proxy"]
    assert proxy["variant"] == "negative_prior" and proxy["clip"] == {"crying": 1.0, "laughing": 1.0}
    assert proxy["camera_proxy_privatetest_fer2013"]["accuracy"] == 0.5
    classifier = EmotionRecognizer(model, threads=1).classifier
    assert classifier.precision == "int8" and not classifier.tta_flip
    np.testing.assert_allclose(classifier.class_bias, [0.35, 0.0, 0.0])
    assert Path(DEFAULT_MODEL_PATH).with_suffix(".json").read_text() == shipped


def test_a_fitted_crop_is_the_kind_that_scores_best_on_publictest_scenes_and_ties_keep_the_cards(
        proxy_inputs: tuple) -> None:
    _, camera, cached, _ = proxy_inputs
    val, labels = cached["val"], camera["val"].labels
    classifier = ValenceClassifier(threads=1)
    card = (classifier.spec.scale, classifier.spec.align)
    scores_by_kind = fit_crop(classifier, val, labels)
    assert set(scores_by_kind) == set(CROP_KINDS) and scores_by_kind[card] == max(scores_by_kind.values())
    assert (classifier.spec.scale, classifier.spec.align) == card  # the card's crop is among the best: it stays
    only = CROP_KINDS.index((1.0, False))
    blank = val.crops.copy()
    blank[:, [k for k in range(len(CROP_KINDS)) if k != only]] = 128  # every other kind sees a gray square
    scores_by_kind = fit_crop(classifier, dataclasses.replace(val, crops=blank), labels)
    assert (classifier.spec.scale, classifier.spec.align) == (1.0, False)
    assert scores_by_kind[(1.0, False)] > max(v for k, v in scores_by_kind.items() if k != (1.0, False))
    assert Variant.parse("f:crop=fit").crop == "fit"
    with pytest.raises(argparse.ArgumentTypeError, match="chooses scale and align"):
        Variant.parse("f:crop=fit,scale=1.0")


def test_a_negative_only_prior_leaves_the_positive_class_alone() -> None:
    """``bias=fitneg``: the model is shy of both outer classes; only the negative one's prior moves."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, 600)
    logits = rng.normal(0, 1, (600, 3)) + 2.0 * np.eye(3)[labels] - np.array([1.5, 0.0, 1.5])
    log_probs = np.log(softmax(logits))
    both = fit_bias(log_probs, labels, (log_probs, labels))
    negative = fit_bias(log_probs, labels, (log_probs, labels), positive=False)
    assert both[0] > 0.8 and both[2] > 0.8
    assert negative[0] > 0.8 and negative[1] == negative[2] == 0.0
    assert Variant.parse("n:bias=fitneg").bias == "fitneg"


def test_a_paired_bootstrap_sees_a_real_difference_and_none_between_equals() -> None:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 1000)
    base = np.where(rng.random(1000) < 0.3, rng.integers(-1, 3, 1000), labels)
    better = np.where(rng.random(1000) < 0.5, labels, base)  # half of the base's mistakes mended
    assert np.array_equal(decode(encode(base)), base) and set(encode(base)) == set(".-=+")
    gain = paired_bootstrap(labels, base, better)
    assert gain["difference"] > 0.05 and 0.0 < gain["interval_95"][0] < gain["difference"] < gain["interval_95"][1]
    assert paired_bootstrap(labels, base, base)["interval_95"] == [0.0, 0.0]
    loss = paired_bootstrap(labels, better, base)
    assert loss["difference"] == -gain["difference"] and loss["interval_95"][1] < 0.0


def test_no_face_counts_as_wrong() -> None:
    labels = np.array([0, 0, 1, 2])
    assert scores(labels, np.array([0, 0, 1, 2]))["macro_f1"] == 1.0
    missed = scores(labels, np.array([0, -1, 1, 2]))
    assert missed["faces_found"] == 0.75 and missed["per_class_f1"]["negative"] < 1.0
    log_probs = np.log(np.array([[0.6, 0.3, 0.1], [np.nan] * 3]))
    assert decide(log_probs, np.zeros(3)).tolist() == [0, -1]


def test_fitted_prior_correction_recovers_an_under_predicted_class() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    logits = rng.normal(0, 1, (600, 3)) + 2.0 * np.eye(3)[labels]
    logits[:, 0] -= 1.5  # the model is shy of the negative class
    log_probs = np.log(softmax(logits))
    bias = fit_bias(log_probs, labels)
    assert bias[1] == 0 and bias[0] > 0.8
    assert scores(labels, decide(log_probs, bias))["macro_f1"] > scores(labels, decide(log_probs, 0 * bias))[
        "macro_f1"] + 0.05


def test_a_prior_fitted_on_two_label_protocols_lies_between_the_two_fits() -> None:
    """``bias=fitlabels``: the same faces, a third of them ambiguous, which one protocol calls neutral (as FER+
    crowds call subtle sadness) and the other negative (as expression labels do)."""
    rng = np.random.default_rng(1)
    clear = rng.integers(0, 3, 600)
    ambiguous = rng.random(600) < 0.3
    logits = rng.normal(0, 1, (600, 3)) + 2.0 * np.eye(3)[clear]
    logits[ambiguous] = rng.normal(0, 1, (ambiguous.sum(), 3)) + np.array([1.0, 1.5, -2.0])
    log_probs = np.log(softmax(logits))
    crowd, expression = np.where(ambiguous, 1, clear), np.where(ambiguous, 0, clear)
    alone = [fit_bias(log_probs, labels)[0] for labels in (crowd, expression)]
    both = fit_bias(log_probs, crowd, (log_probs, expression))[0]
    assert alone[0] + 0.5 < alone[1]
    assert alone[0] + 0.5 < both < alone[1] - 0.5
    assert Variant.parse("both:bias=fitlabels").bias == "fitlabels"


def test_class_bias_shifts_the_decision_as_a_prior(tmp_path: Path) -> None:
    batch = np.random.default_rng(1).normal(0, 1, (4, 1, 48, 48)).astype(np.float32)
    plain = ValenceClassifier(class_bias=[0.0, 0.0, 0.0], precision="fp32").predict_batch(batch)
    biased = ValenceClassifier(class_bias=[1.0, 0.0, 0.0], precision="fp32").predict_batch(batch)
    expected = plain * np.array([np.e, 1, 1])
    np.testing.assert_allclose(biased, expected / expected.sum(axis=1, keepdims=True), rtol=1e-4)
    # carried by the card, validated when loaded
    card = json.loads(Path(DEFAULT_MODEL_PATH).with_suffix(".json").read_text())
    model = tmp_path / "m.pt"
    model.write_bytes(Path(DEFAULT_MODEL_PATH).read_bytes())
    model.with_suffix(".onnx").write_bytes(Path(DEFAULT_MODEL_PATH).with_suffix(".onnx").read_bytes())
    card["class_bias"] = [1.0, 0.0, 0.0]
    model.with_suffix(".json").write_text(json.dumps(card))
    np.testing.assert_allclose(ValenceClassifier(model).predict_batch(batch), biased, rtol=1e-4)
    card["class_bias"] = [1.0, 0.0]
    with pytest.raises(ValueError, match="class_bias"):
        ModelCard.from_json(json.dumps(card))


def test_an_ensemble_serves_the_mean_of_its_members_calibrated_probabilities(tmp_path: Path) -> None:
    other = tmp_path / "hotter.pt"
    for suffix in (".pt", ".onnx", ".int8.onnx"):
        (tmp_path / f"hotter{suffix}").write_bytes(Path(DEFAULT_MODEL_PATH).with_suffix(suffix).read_bytes())
    card = json.loads(Path(DEFAULT_MODEL_PATH).with_suffix(".json").read_text())
    card["temperature"] *= 3  # the same weights, calibrated differently: a member's own temperature counts
    other.with_suffix(".json").write_text(json.dumps(card))
    variant = Variant.parse(f"pair:model={DEFAULT_MODEL_PATH}+{other},bias=0/0/0")
    assert (variant.model, variant.members) == (Path(DEFAULT_MODEL_PATH), (other,))
    ensemble = EnsembleClassifier([variant.model, *variant.members], threads=1, mirror=None, precision="auto")
    ensemble.class_bias = np.zeros(3, np.float32)
    batch = np.random.default_rng(2).normal(0, 1, (5, 1, 48, 48)).astype(np.float32)
    members = [ValenceClassifier(path, class_bias=[0, 0, 0], threads=1).predict_batch(batch)
               for path in (DEFAULT_MODEL_PATH, other)]
    assert not np.allclose(*members, atol=1e-3)
    np.testing.assert_allclose(ensemble.predict_batch(batch), np.mean(members, axis=0), rtol=1e-4, atol=1e-6)
