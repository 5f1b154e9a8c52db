# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Data files are found in a checkout and in an installed package's share directory, never in a stray folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import emotion_perception.package_files as package_files
from emotion_perception.package_files import package_file

SOURCE = Path(package_files.__file__).resolve()
REPOSITORY = SOURCE.parents[1]

#: What the copied module answers in a child process (the copy has no checkout around it).
PROBE = (
    "import json, sys; sys.path.insert(0, sys.argv[1]);"
    "from emotion_perception.package_files import data_root, package_file;"
    "print(json.dumps([str(data_root()), str(package_file('models', 'x.onnx'))]))"
)


def _installed_layout(tmp_path: Path, with_index: bool) -> tuple[Path, Path]:
    """A copy of the module as a non-symlink install places it, a share directory, a stray site-packages/models."""
    site = tmp_path / "install" / "lib" / "python3" / "site-packages"
    (site / "emotion_perception").mkdir(parents=True)
    (site / "emotion_perception" / "__init__.py").write_text("")
    shutil.copy(SOURCE, site / "emotion_perception" / "package_files.py")
    (site / "models").mkdir()  # some other distribution's top-level folder: never ours
    share = tmp_path / "install" / "share" / "emotion_perception"
    (share / "models").mkdir(parents=True)
    if with_index:
        index = tmp_path / "install" / "share" / "ament_index" / "resource_index" / "packages"
        index.mkdir(parents=True)
        (index / "emotion_perception").write_text("")
    return site, share


def _probe(site: Path, ament_prefix: str) -> list[str]:
    env = {**os.environ, "AMENT_PREFIX_PATH": ament_prefix, "PYTHONPATH": ""}
    out = subprocess.run([sys.executable, "-c", PROBE, str(site)], env=env, cwd=site, capture_output=True,
                         text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_a_checkout_reads_its_own_files() -> None:
    assert package_file("models", "valence_model.pt") == REPOSITORY / "models" / "valence_model.pt"
    assert package_file("config", "emotion_perception.yaml").is_file()


def test_an_installed_package_reads_its_share_directory_from_the_ament_index(tmp_path: Path) -> None:
    site, share = _installed_layout(tmp_path, with_index=True)
    root, model = _probe(site, str(tmp_path / "install"))
    assert Path(root) == share
    assert Path(model) == share / "models" / "x.onnx"


def test_without_an_ament_index_the_share_directory_under_the_prefix_is_used(tmp_path: Path) -> None:
    site, _ = _installed_layout(tmp_path, with_index=False)
    root, _ = _probe(site, "")
    assert Path(root) == Path(sys.prefix) / "share" / "emotion_perception"
