#!/usr/bin/env sh
# Dagster's own FilesystemIOManager on tessera-bench's sizes: creates a virtual
# environment in bench/.venv, installs dagster, pandas and pyarrow from the
# package index, and writes the JSON that `tessera-bench --dagster-json` reads.
#
#   bench/dagster/run.sh [--quick] [OUT.json]    (default OUT: bench/results/dagster.json)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench=$(dirname "$here")
quick=""
if [ "${1:-}" = "--quick" ]; then quick="--quick"; shift; fi
out=${1:-$bench/results/dagster.json}
python=${PYTHON:-python3}
if [ ! -x "$bench/.venv/bin/python" ]; then
    "$python" -m venv "$bench/.venv"
fi
"$bench/.venv/bin/pip" install --quiet dagster pandas pyarrow
mkdir -p "$(dirname "$out")"
# Dagster logs every load at DEBUG level on stderr; keep it out of the way.
"$bench/.venv/bin/python" "$here/bench_dagster.py" $quick --out "$out" 2>"$out.log" || {
    tail -20 "$out.log"
    exit 1
}
echo "wrote $out"
