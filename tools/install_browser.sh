#!/usr/bin/env bash
# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
# Installs Debian's headless-capable Chromium and its matching WebDriver for the dashboard's browser
# test, when they are missing. Idempotent; needs root (or sudo). Nothing is downloaded outside apt, and a
# failed install is reported but does not fail the setup (the browser test then skips with the reason).
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"  # never wait for a password
if ! command -v apt-get >/dev/null; then
  echo "install_browser: no apt-get here; install chromium and chromedriver yourself (the browser test skips)" >&2
  exit 0
fi
echo "install_browser: installing chromium and chromium-driver (Debian packages)"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
       --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null; }; then
  echo "install_browser: could not install them; the dashboard's browser test will skip" >&2
fi
