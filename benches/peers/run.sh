#!/usr/bin/env bash
# Side-by-side benchmark against scikit-learn and fastText; see bench.py for what it measures.
#   bash benches/peers/run.sh            # full run over ../shared/datasets, writes BENCHMARKS.md (minutes)
#   bash benches/peers/run.sh --short --out FILE   # the test suite's quick run on data/corpus
# The peers are installed into .venv-bench with pinned versions (benches/peers/requirements.txt).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-bench"
requirements="$root/benches/peers/requirements.txt"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "$want" > "$venv/.requirements.sha256"
fi
bin_dir="${STANCE_BIN_DIR:-}"
if [ -z "$bin_dir" ]; then
  (cd "$root" && cargo build --release --quiet --bins) >&2
  bin_dir="$root/target/release"
fi
exec "$venv/bin/python" "$root/benches/peers/bench.py" --bin-dir "$bin_dir" "$@"
