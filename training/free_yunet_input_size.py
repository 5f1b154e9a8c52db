# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Make the upstream YuNet 2023mar ONNX take any input size, so onnxruntime runs it on a frame of any size.

Upstream fixes the input at 1x3x640x640 and every output at 640x640's anchor count; the graph itself
(reshapes to ``[1, -1, k]``, resizes by scale) holds for any height and width divisible by 32. This
rewrites those dimensions as symbolic names and drops the stored intermediate shapes; weights and
nodes are unchanged. Made ``models/face_detection_yunet_2023mar.onnx`` (needs the ``onnx`` package):

    python -m training.free_yunet_input_size face_detection_yunet_2023mar.onnx models/face_detection_yunet_2023mar.onnx
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import onnx

#: sha256 of opencv_zoo's ``face_detection_yunet_2023mar.onnx`` (= libfacedetection.train's yunet_s_640_640.onnx).
UPSTREAM_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"


def free_input_size(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with a ``1x3xHxW`` input and ``1xNxK`` outputs whose ``H``, ``W`` and ``N`` are symbolic."""
    (image,) = model.graph.input
    for dim, name in zip(image.type.tensor_type.shape.dim[2:], ("height", "width"), strict=True):
        dim.dim_param = name
    for output in model.graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = f"anchors_{output.name.split('_')[-1]}"
    del model.graph.value_info[:]
    onnx.checker.check_model(model, full_check=True)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", type=Path, help="opencv_zoo's face_detection_yunet_2023mar.onnx")
    parser.add_argument("output", type=Path, help="where to write the model with a free input size")
    args = parser.parse_args(argv)
    digest = hashlib.sha256(args.upstream.read_bytes()).hexdigest()
    if digest != UPSTREAM_SHA256:
        print(f"{args.upstream} is not the upstream YuNet 2023mar (sha256 {digest})", file=sys.stderr)
        return 1
    onnx.save(free_input_size(onnx.load(args.upstream)), args.output)
    print(f"wrote {args.output} (sha256 {hashlib.sha256(args.output.read_bytes()).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
