"""Record what a live DEEPaaS 2.6.0 serving one module shows the clients, for tests/clients/:

    tests/clients/record.sh NAME...     (starts the reference for each, then runs this)
    python3 tests/clients/record_v2v3.py http://127.0.0.1:PORT NAME OUT.json

Writes the order of the swagger.json paths, of the first predict path's parameters and of the
``ModelPredictionResponse`` properties as served (the recorded swagger_NAME.json files were
written with sorted keys, which loses the property order the Gradio UI shows its outputs in),
and the answers to the bare requests of ``deepaas-test-v2-v3`` (``spec_compare.bare_cases``).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "compat")]
from record_reference import send  # noqa: E402
from spec_compare import bare_cases  # noqa: E402


def served_order(spec: dict[str, Any]) -> dict[str, Any]:
    """The orders a client sees in a swagger.json (as parsed, keys in the server's order)."""
    predict = next(p for p in spec["paths"] if p.endswith("predict/"))
    response = spec.get("definitions", {}).get("ModelPredictionResponse")
    return {"paths": list(spec["paths"]),
            "predict_parameters": [p["name"] for p in spec["paths"][predict]["post"]
                                   ["parameters"]],
            "response_properties": list(response["properties"]) if response else None}


def main(argv: list[str]) -> int:
    base, name, out = argv
    with urllib.request.urlopen(base + "/swagger.json", timeout=30) as resp:
        spec = json.load(resp)
    cases = bare_cases(sorted(set(spec["paths"]) - {"/v2/models/%s/train" % name}))
    record = {"model": name, "served": served_order(spec),
              "answers": {case["name"]: send(base, case) for case in cases}}
    with open(out, "w") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("recorded %d answers to %s" % (len(record["answers"]), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
