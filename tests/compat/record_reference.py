"""Record the reference DEEPaaS 2.6.0's answers to a case file, for the offline replay test.

    ../shared/tools/refserver tests/compat/compatmod compatmod 5999
    python tests/compat/record_reference.py http://127.0.0.1:5999 \
        tests/compat/cases_compatmod.json tests/compat/reference_compatmod.json
"""

from __future__ import annotations

import json
import mimetypes
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from answers import reduce  # noqa: E402


def _body(case: dict[str, Any]) -> tuple[bytes | None, dict[str, str]]:
    headers = dict(case.get("headers", {}))
    if case.get("files") or case.get("form"):
        boundary = uuid.uuid4().hex
        parts = [b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                 % (boundary.encode(), k.encode(), str(v).encode())
                 for k, v in case.get("form", {}).items()]
        for key, path in case.get("files", {}).items():
            ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
            with open(path, "rb") as handle:
                parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"'
                             b"\r\nContent-Type: %s\r\n\r\n" % (
                                 boundary.encode(), key.encode(),
                                 os.path.basename(path).encode(), ctype.encode())
                             + handle.read() + b"\r\n")
        headers["Content-Type"] = "multipart/form-data; boundary=" + boundary
        return b"".join(parts) + b"--%s--\r\n" % boundary.encode(), headers
    if "json" in case:
        headers["Content-Type"] = "application/json"
        return json.dumps(case["json"]).encode(), headers
    return (b"" if case.get("method", "GET") == "POST" else None), headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send(base: str, case: dict[str, Any]) -> dict[str, Any]:
    url = base.rstrip("/") + case["path"]
    if case.get("query"):
        url += "?" + urllib.parse.urlencode([tuple(kv) for kv in case["query"]])
    data, headers = _body(case)
    req = urllib.request.Request(url, data=data, method=case.get("method", "GET"),
                                 headers=headers)
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=60) as resp:
            return reduce(resp.status, resp.headers.get("Content-Type", ""), resp.read())
    except urllib.error.HTTPError as err:
        return reduce(err.code, err.headers.get("Content-Type", ""), err.read())


def main(argv: list[str]) -> int:
    base, cases_path, out_path = argv
    with open(cases_path) as handle:
        cases = json.load(handle)
    answers = {case["name"]: send(base, case) for case in cases}
    with open(out_path, "w") as handle:
        json.dump(answers, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("recorded %d answers to %s" % (len(answers), out_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
