#!/usr/bin/env bash
# Record what the reference DEEPaaS 2.6.0 answers for one corpus fixture, for the replay test:
#   tests/compat/corpus/record.sh NAME [PORT]
# reads cases/NAME.json and writes reference/NAME.json and reference/swagger_NAME.json.
# Recordings are serialised with a lock: the reference's scratch virtualenv is shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tools=${DEEPAAS_REF_TOOLS:-$root/../shared/tools}
name=$1 port=${2:-5990}
[ -f "$here/cases/$name.json" ] || { echo "no cases/$name.json" >&2; exit 2; }
exec 9>/tmp/deepaas-corpus-record.lock
flock 9
# fixtures may return numpy values: the reference's environment needs numpy too
/tmp/deepaas-ref/bin/python -c 'import numpy' 2>/dev/null || /tmp/deepaas-ref/bin/pip install -q numpy
pid=$("$tools/refserver" "$here" "$name" "$port")
trap 'kill -INT -- -"$pid" 2>/dev/null || true' EXIT
cd "$root"
python3 tests/compat/record_reference.py "http://127.0.0.1:$port" \
    "$here/cases/$name.json" "$here/reference/$name.json"
curl -sf "http://127.0.0.1:$port/swagger.json" | python3 -m json.tool --sort-keys \
    > "$here/reference/swagger_$name.json"
echo "recorded swagger to $here/reference/swagger_$name.json"
