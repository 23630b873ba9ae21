"""Mirrors the interface of ai4os/ai4-template ({{ cookiecutter.__repo_name }}/
{{ cookiecutter.__app_name }}/api.py, misc.py): the module a freshly generated AI4OS project
starts with.

Interface kept: only ``get_metadata()`` is defined (wrapped by ``_catch_error``, which turns any
failure into ``HTTPBadRequest``), returning name, author, author-email, description, license
and version. ``warm``, ``get_predict_args``, ``predict``, ``get_train_args`` and ``train`` are
left out (commented out in the template), so DEEPaaS must answer "not implemented" for them.
"""

from functools import wraps

from aiohttp.web import HTTPBadRequest


def _catch_error(func):
    @wraps(func)
    def wrap(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as err:
            raise HTTPBadRequest(reason=str(err)) from err
    return wrap


@_catch_error
def get_metadata():
    return {"name": "my_project", "author": ["Jane Doe"],
            "author-email": {"Jane Doe": "jane@example.org"},
            "description": "A new AI4OS module.", "license": "MIT", "version": "0.0.1"}
