#!/usr/bin/env bash
# The whole test suite, as README.md and CI run it: formatting, lints, licences and sources
# (cargo deny), unit and integration tests, and a short fuzzing run. Everything the tests need is installed from here or by
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

# A short run of each fuzz target (the long command is in BENCHMARKS.md). cargo-fuzz wants a
# nightly compiler; RUSTC_BOOTSTRAP=1 lets the stable toolchain, the only one here, build it.
echo "== cargo fuzz (10 s per target)"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
log=$(mktemp)
for target in text_pipeline training_reader bundle_files; do
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time=10 -rss_limit_mb=4096 > "$log" 2>&1; then
    tail -n 60 "$log"
    exit 1
  fi
  printf '%s: %s\n' "$target" "$(grep -E '^Done' "$log")"
done
rm -f "$log"
