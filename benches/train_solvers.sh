#!/usr/bin/env bash
# Training cost of the two solvers side by side in one run: wall time and peak memory (GNU time)
# for --solver dense (linfa-logistic on a dense matrix) and --solver sparse (same objective on
# sparse rows), on the corpus and, when ../shared/datasets is present, on growing slices of
# c_stance. Usage: [DENSE_LIMIT=ROWS] bash benches/train_solvers.sh (dense runs above ROWS, default 10000, are skipped)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin train
dense_limit=${DENSE_LIMIT:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # name solver rows args...
  local name=$1 solver=$2 rows=$3; shift 3
  if [ "$solver" = dense ] && [ "$rows" -gt "$dense_limit" ]; then
    printf '| %s | %s | %s | | skipped (over DENSE_LIMIT=%s rows) | | |\n' "$name" "$solver" "$rows" "$dense_limit"
    return
  fi
  /usr/bin/time -f '%e %M' -o "$work/time" ./target/release/train "$@" --solver "$solver" --max-memory 16GiB --out "$work/model" > "$work/out" 2> "$work/err" || {
    printf '| %s | %s | %s | | failed: %s | | |\n' "$name" "$solver" "$rows" "$(tail -1 "$work/err")"; return; }
  read -r secs kb < "$work/time"
  local features; features=$(grep -o 'vocabulary: [0-9]* terms' "$work/out" | grep -o '[0-9]*')
  local acc; acc=$(grep -o 'stance: accuracy [0-9.]*\|label: accuracy [0-9.]*' "$work/out" | head -1 | grep -o '[0-9.]*$' || true)
  printf '| %s | %s | %s | %s | %.1f s | %.0f MiB | %s |\n' "$name" "$solver" "$rows" "$features" "$secs" "$((kb / 1024))" "${acc:-}"
}

echo "| data | solver | rows | features | wall time | peak RSS | hold-out accuracy |"
echo "|---|---|---:|---:|---:|---:|---:|"
for solver in dense sparse; do
  run "corpus (stance+topic, alpha 0.1)" "$solver" 1860 --data data/corpus/train.jsonl --test data/corpus/test.jsonl --alpha 0.1
done
shared=../shared/datasets/c_stance
if [ -f "$shared/train.tsv" ]; then
  for rows in 5000 10000 20000 33424; do
    head -n $((rows + 1)) "$shared/train.tsv" | cut -f1,5 > "$work/c_stance_$rows.tsv"
    for solver in dense sparse; do
      run "c_stance text only" "$solver" "$rows" --data "$work/c_stance_$rows.tsv" --format tsv --heads label --test <(cut -f1,5 "$shared/test.tsv") --alpha 1
    done
  done
fi
