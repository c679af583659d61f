#!/usr/bin/env bash
# The whole test suite, as README.md and CI run it: formatting, lints, licences and sources
# (cargo deny), unit and integration tests. Everything the tests need is installed from here or by
# the tests themselves: Rust crates and cargo-deny by cargo; Python venvs with grpcurl and
# grpcio-tools (.venv) and with the benchmark peers (.venv-bench), from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --release --all-targets --locked -- -D warnings

echo "== cargo deny check licenses bans sources"
if ! cargo deny --version >/dev/null 2>&1; then
  cargo install cargo-deny --locked --version 0.20.2
fi
cargo deny check licenses bans sources

echo "== cargo test"
cargo test --release --locked
