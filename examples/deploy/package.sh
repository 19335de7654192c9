#!/usr/bin/env bash
# The release a school copies: `dist/unicas`, stripped of its debug info, and
# `dist/unicas.debug` beside it (the line tables, linked by a .gnu_debuglink, for gdb and for
# symbolising a backtrace later). Needs binutils' objcopy. Prints both sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked
mkdir -p dist
cp target/release/unicas dist/unicas
cd dist
objcopy --only-keep-debug unicas unicas.debug
objcopy --strip-debug --add-gnu-debuglink=unicas.debug unicas
ls -l unicas unicas.debug
