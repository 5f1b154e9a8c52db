# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""ament_python build of emotion_perception (core library, nodes, offline training)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "emotion_perception"
# The offline training code lives in training/ and installs as its own, non-generic package name.
TRAINING = f"{PACKAGE}_training"
# The planner example (examples/) installs as a package too, so `ros2 run emotion_perception planner_example` runs it.
EXAMPLES = f"{PACKAGE}_examples"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=[*find_packages(include=[PACKAGE, f"{PACKAGE}.*"]), TRAINING, EXAMPLES],
    package_dir={TRAINING: "training", EXAMPLES: "examples"},
    package_data={f"{PACKAGE}.dashboard": ["static/*.*", "static/vendor/*"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.xml") + glob("config/*.json")),
        (f"share/{PACKAGE}/models", glob("models/*")),
        (f"share/{PACKAGE}/media", glob("media/*.mp4") + glob("media/*.labels.json")),
    ],
    install_requires=["setuptools"],
    # colcon test runs pytest (not unittest) when the package declares it as its test extra.
    extras_require={"test": ["pytest", "hypothesis"]},
    zip_safe=True,
    maintainer="emotion_perception maintainers",
    maintainer_email="emotion-perception@users.noreply.github.com",
    description="Facial valence perception and robot-action feedback for ROS 2.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "perception_node = emotion_perception.ros.perception_node:main",
            "action_feedback_node = emotion_perception.ros.action_feedback_node:main",
            "video_publisher = emotion_perception.tools.video_publisher:main",
            "capture = emotion_perception.tools.capture:main",
            "demo = emotion_perception.entry_points:demo",
            "record = emotion_perception.entry_points:record",
            "replay = emotion_perception.entry_points:replay",
            "report = emotion_perception.entry_points:report",
            "dashboard = emotion_perception.entry_points:dashboard",
            "train = emotion_perception_training.train:main",
            "evaluate = emotion_perception_training.evaluate:main",
            "quantize = emotion_perception_training.quantize:main",
            "planner_example = emotion_perception_examples.planner_example:main",
        ],
    },
)
