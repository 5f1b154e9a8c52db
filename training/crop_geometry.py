# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Where YuNet puts its box and landmarks on stored FER faces: the crop geometry and training-time alignment.

Each 48x48 FER face is upsampled (a detector needs more than 48 px), padded on every side (so the
box can extend past the FER frame), run through YuNet, and the best box is mapped back to FER
pixels. The FER frame's side relative to the box's mean side is the crop ``scale`` that reproduces
FER's tight crop from a YuNet box at run time; the centre offsets give ``shift_x``/``shift_y``. The same
detection's five landmarks let ``train --align-train`` level each training face as the pipeline levels
each camera face (``InputSpec.align``)::

    python -m training.crop_geometry --data ../shared/data/fer2013_ferplus.csv.gz --json runs/crop_geometry.json

``--sharp`` (videos or image folders) also measures how YuNet's box on a sharp camera face compares with its box
on a FER-like copy of the same face (48 px gray, detected as stored faces are): the scale measured on FER
faces, times that ratio, is FER's frame in a sharp face's box units.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from emotion_perception.tools.video_source import VideoSource
from emotion_perception.vision.detection import Detection, YuNetDetector
from emotion_perception.vision.preprocessing import InputSpec, face_crop

from .datasets import FaceSet, read_fer_csv
from .relabel import ValenceMap


def stored_face_detector() -> YuNetDetector:
    """YuNet as both uses here run it: on the whole upscaled face (no downscaled copy), score >= 0.5."""
    return YuNetDetector(input_size=0, score_threshold=0.5)


def detect_stored_face(detector: YuNetDetector, face: np.ndarray, upsample: int = 4, pad: int = 64,
                       border: int = cv2.BORDER_REPLICATE) -> Detection | None:
    """YuNet's best face on a stored face (upsampled, padded), mapped back to the stored face's pixels."""
    big = cv2.resize(face, (face.shape[1] * upsample, face.shape[0] * upsample), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, border, value=128)
    found = detector.detect(big if big.ndim == 3 else cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    if not found:
        return None
    best = max(found, key=lambda d: d.score)
    x, y, w, h = best.box
    return Detection(((x - pad) / upsample, (y - pad) / upsample, w / upsample, h / upsample), best.score,
                     tuple(((px - pad) / upsample, (py - pad) / upsample) for px, py in best.landmarks))


def stored_face_landmarks(*face_sets: FaceSet, cache: Path | None = None) -> dict[str, np.ndarray]:
    """YuNet's five landmarks (5, 2) of each stored face of ``face_sets`` found, keyed by pixel hash; ``cache``
    is an ``.npz`` read for the hashes it holds and rewritten once with the new ones (a face YuNet misses has
    no entry)."""
    known: dict[str, np.ndarray] = {}
    missed: set[str] = set()
    if cache is not None and cache.exists():
        with np.load(cache) as stored:
            known = dict(zip(stored["hashes"].tolist(), stored["landmarks"], strict=True))
            missed = set(stored["missed"].tolist())
    todo = {h: image for faces in face_sets for h, image in zip(faces.hashes, faces.images, strict=True)
            if h not in known and h not in missed}
    if todo:
        detector = stored_face_detector()
        for h, image in todo.items():
            found = detect_stored_face(detector, image)
            if found is None or len(found.landmarks) < 2:
                missed.add(h)
            else:
                known[h] = np.asarray(found.landmarks, np.float32)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, hashes=np.asarray(list(known), dtype=str),
                     landmarks=np.asarray(list(known.values()), np.float32).reshape(-1, 5, 2),
                     missed=np.asarray(sorted(missed), dtype=str))
    return {h: known[h] for faces in face_sets for h in faces.hashes if h in known}


def stored_over_sharp(frames: Iterable[np.ndarray], scale: float, min_side: float = 60.0) -> list[float]:
    """For each face of ``frames`` YuNet finds (mean box side >= ``min_side`` px): its box side on a FER-like
    copy (cropped at ``scale`` x the box, 48 px gray, detected as :func:`detect_stored_face` does) over its
    box side on the frame. A face the copy's detection misses is left out."""
    camera, stored = YuNetDetector(), stored_face_detector()
    spec = InputSpec(scale=scale)
    ratios = []
    for frame in frames:
        for face in camera.detect(frame):
            side = (face.box[2] + face.box[3]) / 2
            again = detect_stored_face(stored, face_crop(frame, face.box, spec)) if side >= min_side else None
            if again is not None:  # one copy pixel spans scale * side / size frame pixels: the side cancels
                ratios.append((again.box[2] + again.box[3]) / 2 * scale / spec.size)
    return ratios


def sharp_frames(sources: list[Path], every: int) -> Iterator[np.ndarray]:
    """Every ``every``-th frame of the videos in ``sources`` and every image of the image folders."""
    for source in sources:
        with VideoSource(source) as video:
            step = every if video.kind == "file" else 1
            yield from (frame.image for frame in video if frame.index % step == 0)


def measure(faces: list[np.ndarray], upsample: int, pad: int, border: int) -> dict:
    detector = stored_face_detector()
    found = [detect_stored_face(detector, face, upsample, pad, border) for face in faces]
    boxes = [d.box for d in found if d is not None]
    b = np.asarray(boxes)
    x, y, w, h = b.T
    side = (w + h) / 2
    size = faces[0].shape[0]

    def stats(v: np.ndarray) -> dict:
        return {"mean": float(v.mean()), "median": float(np.median(v)), "std": float(v.std()),
                "p10": float(np.percentile(v, 10)), "p90": float(np.percentile(v, 90))}

    return {
        "upsample": upsample, "pad": pad, "border": "replicate" if border == cv2.BORDER_REPLICATE else "constant",
        "faces": len(faces), "detected": len(b),
        "box_w_px": stats(w), "box_h_px": stats(h), "h_over_w": stats(h / w),
        "scale_frame_over_mean_side": stats(size / side),
        "shift_x_in_mean_sides": stats((size / 2 - (x + w / 2)) / side),
        "shift_y_in_mean_sides": stats((size / 2 - (y + h / 2)) / side),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="FER-style CSV")
    parser.add_argument("--faces", type=int, default=600, help="random training faces to measure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path("runs/crop_geometry.json"))
    parser.add_argument("--sharp", type=Path, nargs="+", default=[],
                        help="videos or image folders whose faces are compared with FER-like copies of them")
    parser.add_argument("--every", type=int, default=8, help="with --sharp: every N-th frame of a video")
    args = parser.parse_args(argv)
    data = read_fer_csv(args.data, ValenceMap({"neutral": "neutral", "happiness": "positive", "happy": "positive",
                                                "sadness": "negative", "sad": "negative"}), "auto", "argmax")
    train = data.split("train")
    pick = np.random.default_rng(args.seed).choice(len(train), min(args.faces, len(train)), replace=False)
    faces = [train.images[i] for i in pick]
    runs = [measure(faces, up, pad, border) for up, pad, border in
            [(4, 64, cv2.BORDER_REPLICATE), (4, 64, cv2.BORDER_CONSTANT), (6, 96, cv2.BORDER_REPLICATE)]]
    result = {"data": str(args.data), "runs": runs,
              "chosen": {"scale": round(runs[0]["scale_frame_over_mean_side"]["median"], 2),
                         "shift_x": 0.0, "shift_y": 0.0,
                         "why": "median FER frame / YuNet mean box side; centre offsets are under 2% of the side"}}
    if args.sharp:
        scale = result["chosen"]["scale"]
        ratios = np.asarray(stored_over_sharp(sharp_frames(args.sharp, args.every), scale))
        result["sharp"] = {"sources": [str(p) for p in args.sharp], "faces": len(ratios),
                           "stored_over_sharp_box_side": {"median": float(np.median(ratios)),
                                                          "p10": float(np.percentile(ratios, 10)),
                                                          "p90": float(np.percentile(ratios, 90))},
                           "fer_frame_over_sharp_box_side": round(scale * float(np.median(ratios)), 3)}
        print(json.dumps(result["sharp"], indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["chosen"], indent=2))
    for run in runs:
        print(f"x{run['upsample']} pad {run['pad']} {run['border']}: detected {run['detected']}/{run['faces']}, "
              f"scale median {run['scale_frame_over_mean_side']['median']:.3f}, "
              f"shift_x {run['shift_x_in_mean_sides']['mean']:+.3f}, "
              f"shift_y {run['shift_y_in_mean_sides']['mean']:+.3f}")
    return result


if __name__ == "__main__":
    main()
