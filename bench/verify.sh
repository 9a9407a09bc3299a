#!/bin/bash
# verify.sh DIR KEYS [VALUE_SIZE] [CENSUS]: every bench key "bench:<i>" of the
# sandbox in DIR exists exactly once, on the master that owns its slot, with
# its value; with CENSUS (from `benchkit.py census`), every other key too.
# Exit 0 when all hold, 1 naming the first key that does not.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: bench/verify.sh DIR KEYS [VALUE_SIZE] [CENSUS]" >&2; exit 2; }
args=(verify --dir "$1" --keys "$2" --value-size "${3:-100}")
[[ -n ${4:-} ]] && args+=(--census "$4")
exec /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/benchkit.py" "${args[@]}"
