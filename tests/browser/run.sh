#!/usr/bin/env bash
# The browser suite (tests/browser/): a real Chromium through every flow a person does.
# Installs Debian's chromium, chromium-driver and the CJK fonts when missing, then runs the
# suite's tests, which a plain `cargo test` skips (they are #[ignore]d without a browser).
# Extra arguments go to the test harness, e.g. `bash tests/browser/run.sh first_login`.
# Failures keep a screenshot and the page's HTML under target/tmp/browser/<test>/.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
  || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
fi
chromium --version
started=$(date +%s)
cargo test --test browser -- --ignored --test-threads=2 "$@"
echo "browser suite: $(($(date +%s) - started)) s"
