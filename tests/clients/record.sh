#!/usr/bin/env bash
# Record what DEEPaaS 2.6.0 shows the clients for each named module (a corpus fixture, or
# compatmod / compatcls), for the offline tests of tests/clients/:
#   tests/clients/record.sh NAME... [--port PORT]
# writes tests/clients/reference/v2v3_NAME.json (see record_v2v3.py). Serialised with the
# corpus recorder's lock: the reference's scratch virtualenv is shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tools=${DEEPAAS_REF_TOOLS:-$root/../shared/tools}
port=5992
exec 9>/tmp/deepaas-corpus-record.lock
flock 9
/tmp/deepaas-ref/bin/python -c 'import numpy' 2>/dev/null || /tmp/deepaas-ref/bin/pip install -q numpy
for name in "$@"; do
    case $name in
        compatmod|compatcls) module=$root/tests/compat/compatmod ;;
        *) module=$root/tests/compat/corpus ;;
    esac
    pid=$("$tools/refserver" "$module" "$name" "$port")
    python3 "$here/record_v2v3.py" "http://127.0.0.1:$port" "$name" \
        "$here/reference/v2v3_$name.json" || { kill -INT -- -"$pid"; exit 1; }
    kill -INT -- -"$pid"
    # the next reference may only start once this one has let the port go
    while curl -sf -o /dev/null "http://127.0.0.1:$port/v2/"; do sleep 0.2; done
done
