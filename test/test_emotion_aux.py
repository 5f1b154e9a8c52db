# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The training-only emotion head (``train --aux-emotions``): its targets, its loss, and a served model without it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from emotion_perception.vision.model import ValenceNet, load_model
from training import train
from training.datasets import read_fer_csv
from training.emotion_aux import EmotionAux, emotion_loss
from training.relabel import DEFAULT_MAP_PATH, FERPLUS_COLUMNS, FERPLUS_EMOTIONS, ValenceMap

USAGES = ("Training",) * 40 + ("PublicTest",) * 12 + ("PrivateTest",) * 12


@pytest.fixture(scope="module")
def vote_csv(tmp_path_factory) -> Path:
    """64 FER+-layout rows of random faces with random votes (row 0: 4 neutral, 3 sadness, 2 anger, 1 unknown)."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("votes") / "votes.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["fer2013_row", "Usage", "emotion", *FERPLUS_COLUMNS, "pixels"])
        writer.writeheader()
        for row, usage in enumerate(USAGES):
            votes = rng.multinomial(10, [0.3, 0.3, 0, 0.2, 0.1, 0.05, 0.05, 0, 0, 0])
            if row == 0:
                votes = [4, 0, 0, 3, 2, 0, 0, 0, 1, 0]
            writer.writerow({"fer2013_row": row, "Usage": usage, "emotion": 6,
                             **dict(zip(FERPLUS_COLUMNS, votes, strict=True)),
                             "pixels": " ".join(map(str, rng.integers(0, 256, 48 * 48)))})
    return path


def test_fer_plus_rows_carry_their_emotion_votes_as_a_distribution(vote_csv: Path) -> None:
    faces = read_fer_csv(vote_csv, ValenceMap.load(DEFAULT_MAP_PATH), "auto", "soft")
    assert set(faces.emotions) <= set(faces.hashes) and len(faces.emotions) == len(faces)
    first = faces.emotions[faces.hashes[0]]
    assert FERPLUS_EMOTIONS[3] == "sadness" and np.allclose(first, [4 / 9, 0, 0, 3 / 9, 2 / 9, 0, 0, 0])
    assert faces.split("train").emotions[faces.hashes[0]] is first  # carried by every subset
    assert not read_fer_csv(vote_csv, ValenceMap.load(DEFAULT_MAP_PATH), "fer2013").emotions


def test_the_head_shares_the_valence_features_and_lets_go_of_the_model() -> None:
    torch.manual_seed(0)
    model = ValenceNet(widths=(8, 16)).eval()
    trainee = EmotionAux(model)
    faces = torch.randn(4, 1, 48, 48)
    logits, emotions = trainee(faces)
    torch.testing.assert_close(logits, model(faces))
    assert emotions.shape == (4, len(FERPLUS_EMOTIONS))
    # The emotion loss alone trains the shared features, not just its own head.
    emotion_loss(emotions, torch.softmax(torch.randn(4, len(FERPLUS_EMOTIONS)), dim=1)).backward()
    assert model.stem[0].weight.grad.abs().sum() > 0 and model.head[-1].weight.grad is None
    assert trainee.release() is model
    model(faces)
    assert trainee._features is None  # no longer watching the model
    assert set(model.state_dict()) == set(ValenceNet(widths=(8, 16)).state_dict())


def test_faces_without_votes_add_nothing_to_the_emotion_loss() -> None:
    logits = torch.randn(3, len(FERPLUS_EMOTIONS))
    targets = torch.softmax(torch.randn(3, len(FERPLUS_EMOTIONS)), dim=1)
    targets[1] = 0
    both = emotion_loss(logits, targets)
    torch.testing.assert_close(both, emotion_loss(logits[[0, 2]], targets[[0, 2]]))
    assert emotion_loss(logits, torch.zeros_like(targets)) == 0


def test_a_run_with_the_head_serves_the_valence_model_alone(vote_csv: Path, tmp_path: Path) -> None:
    def run(out: Path, *extra: str) -> dict:
        return train.main(train.get_args_parser().parse_args([
            "--data", str(vote_csv), "--output-dir", str(out), "--epochs", "1", "--folds", "0", "--batch-size", "8",
            "--warmup-epochs", "0", "--widths", "8", "16", "--camera-aug", "0", "--workers", "0", "--threads", "1",
            "--device", "cpu", "--seed", "0", *extra]))

    plain = run(tmp_path / "plain")
    with_head = run(tmp_path / "aux", "--aux-emotions", "0.5")
    # Same seed, same batches: the emotion term is what the training loss adds.
    assert with_head["history"][0]["train_loss"] > plain["history"][0]["train_loss"]
    checkpoint = torch.load(tmp_path / "aux" / "final" / "checkpoint.pt", weights_only=True)
    assert checkpoint["emotion_head"]["weight"].shape == (len(FERPLUS_EMOTIONS), 16)
    model, _ = load_model(tmp_path / "aux" / "valence_model.pt")
    assert set(model.state_dict()) == set(load_model(tmp_path / "plain" / "valence_model.pt")[0].state_dict())
    with pytest.raises(SystemExit, match="--aux-emotions"):
        run(tmp_path / "bad", "--aux-emotions", "-1")
    with pytest.raises(SystemExit, match="has none"):  # the original FER2013 labels carry no votes
        run(tmp_path / "bad", "--aux-emotions", "0.5", "--labels", "fer2013")
