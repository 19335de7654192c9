#!/usr/bin/env bash
# The browser suite (tests/browser/): a real Chromium, and Firefox ESR for the flows with the
# most forms, through every flow a person does. Installs what is missing: Debian's chromium,
# chromium-driver, firefox-esr and the CJK fonts, and geckodriver (Mozilla's, built from
# crates.io into target/geckodriver: Debian has no package of it). Then runs the suite's tests,
# which a plain `cargo test` skips (they are #[ignore]d without a browser). Extra arguments go
# to the test harness, e.g. `bash tests/browser/run.sh first_login`. Failures keep a
# screenshot and the page's HTML under target/tmp/browser/<test>/.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
  || ! command -v firefox-esr >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver firefox-esr \
    fonts-noto-cjk >/dev/null
fi
if [ -z "${GECKODRIVER:-}" ]; then
  if command -v geckodriver >/dev/null; then
    GECKODRIVER=$(command -v geckodriver)
  else
    [ -x target/geckodriver/bin/geckodriver ] \
      || cargo install -q --locked geckodriver --version 0.37.1 --root target/geckodriver
    GECKODRIVER=$PWD/target/geckodriver/bin/geckodriver
  fi
fi
export GECKODRIVER
chromium --version
firefox-esr --version
# sed reads to the end: with head, geckodriver can die of the closed pipe and fail the run.
"$GECKODRIVER" --version | sed -n 1p
started=$(date +%s)
cargo test --test browser -- --ignored --test-threads=2 "$@"
echo "browser suite: $(($(date +%s) - started)) s"
