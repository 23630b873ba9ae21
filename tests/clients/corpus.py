"""The modules whose 2.6.0 answers are recorded, and those recordings, for the client tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MODELS", "recorded", "reference_spec"]

HERE = Path(__file__).parent
COMPAT = HERE.parent / "compat"
_SWAGGERS = {p.stem[len("swagger_"):]: p
             for p in sorted((COMPAT / "corpus" / "reference").glob("swagger_*.json"))}
_SWAGGERS.update({name: COMPAT / ("reference_swagger_%s.json" % name)
                  for name in ("compatmod", "compatcls")})
MODELS = sorted(_SWAGGERS)


def recorded(model: str) -> dict[str, Any]:
    """What record_v2v3.py saw 2.6.0 serve for the module (orders and bare answers)."""
    return json.loads((HERE / "reference" / ("v2v3_%s.json" % model)).read_text())


def reference_spec(model: str) -> dict[str, Any]:
    """The recorded 2.6.0 swagger.json, with its keys put back in the order 2.6.0 served them
    (the file was written with sorted keys): the paths, and the response's properties."""
    spec = json.loads(_SWAGGERS[model].read_text())
    served = recorded(model)["served"]
    assert sorted(served["paths"]) == sorted(spec["paths"]), model
    spec["paths"] = {path: spec["paths"][path] for path in served["paths"]}
    if served["response_properties"] is not None:
        response = spec["definitions"]["ModelPredictionResponse"]
        response["properties"] = {k: response["properties"][k]
                                  for k in served["response_properties"]}
    return spec
