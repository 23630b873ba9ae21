"""Module arguments: marshmallow fields in, validated keyword arguments out.

Modules return ``{"name": fields.Int(...)}`` from ``get_predict_args()``/``get_train_args()``,
often with marshmallow 3 spellings (``missing=``, ``description=``, ``type="file"``,
``location="form"``) that land in ``field.metadata``. An :class:`ArgSpec` is built once per
model and method at start-up; :func:`parse` merges the request's sources and validates them.

We validate with marshmallow directly rather than through a webargs parser, so the behaviour is
the same whichever webargs a module pins (5.5.3 or 8.x): webargs only supplies the ``fields``
and ``validate`` names that modules import.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import marshmallow
from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate

from deepaas.exceptions import InvalidInput

__all__ = ["ArgSpec", "build_argspec", "collect", "field_default", "is_file_field", "parse",
           "quiet_legacy", "validate", "wire_name"]

def quiet_legacy(func: Callable[[], Any]) -> Any:
    """Call ``func`` with marshmallow's deprecation warnings about legacy keywords silenced.

    Real modules use ``missing=`` and ``description=``; warning about them on every start
    would only teach users to ignore our logs.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return func()


def wire_name(name: str, field: ma_fields.Field) -> str:
    """The name a client uses for this argument (``data_key`` when the module set one)."""
    return field.data_key or name


def is_file_field(field: ma_fields.Field) -> bool:
    """A field declared as a file: ``type="file"`` (legacy keyword or ``metadata=``)."""
    return field.metadata.get("type") == "file"


def field_default(field: ma_fields.Field) -> Any:
    """The field's load default, or ``marshmallow.missing`` (works on old and new 3.x)."""
    return getattr(field, "load_default", getattr(field, "missing", marshmallow.missing))


@dataclasses.dataclass(frozen=True)
class ArgSpec:
    """The validated shape of one method's arguments; built once, read by every request."""

    fields: Mapping[str, ma_fields.Field]
    schema: marshmallow.Schema
    accept_choices: tuple[str, ...] | None = None
    accept_default: str | None = None

    @property
    def accept_wire(self) -> str | None:
        field = self.fields.get("accept")
        return wire_name("accept", field) if field is not None and self.has_accept else None

    @property
    def has_accept(self) -> bool:
        return "accept" in self.fields

    def readable(self) -> dict[str, ma_fields.Field]:
        """Fields a client may send (``dump_only`` ones are never read)."""
        return {n: f for n, f in self.fields.items() if not f.dump_only}


def _one_of(field: ma_fields.Field) -> ma_validate.OneOf | None:
    for validator in getattr(field, "validators", []):
        if isinstance(validator, ma_validate.OneOf):
            return validator
    return None


def _prepare_accept(field: ma_fields.Field) -> tuple[tuple[str, ...] | None, str | None]:
    """Let ``*/*`` through the accept choices and default to the first choice.

    The validator's message keeps listing the module's own choices, as DEEPaaS 2.x did.
    """
    validator = _one_of(field)
    if validator is None:
        default = field_default(field)
        return None, default if isinstance(default, str) else "application/json"
    choices = [str(c) for c in validator.choices]
    widened = copy.copy(validator)
    widened.choices = choices + (["*/*"] if "*/*" not in choices else [])
    field.validators = [widened if v is validator else v for v in field.validators]
    default = choices[0] if choices else "application/json"
    field.load_default = default
    return tuple(widened.choices), default


def build_argspec(raw: Mapping[str, ma_fields.Field] | None) -> ArgSpec:
    """Build the spec from what ``get_*_args()`` returned (unbound or bound fields)."""
    declared: dict[str, ma_fields.Field] = {}
    for name, field in (raw or {}).items():
        if isinstance(field, type) and issubclass(field, ma_fields.Field):
            field = field()
        if not isinstance(field, ma_fields.Field):
            raise TypeError("argument %r is not a marshmallow field: %r" % (name, field))
        declared[str(name)] = copy.deepcopy(field)
    choices, default = (None, None)
    if "accept" in declared:
        choices, default = _prepare_accept(declared["accept"])
    schema_cls = marshmallow.Schema.from_dict(declared, name="Args")
    schema = quiet_legacy(lambda: schema_cls(unknown=marshmallow.EXCLUDE))
    return ArgSpec(fields=declared, schema=schema, accept_choices=choices, accept_default=default)


def _pick(field: ma_fields.Field, values: Sequence[Any]) -> Any:
    return list(values) if isinstance(field, ma_fields.List) else values[0]


def collect(
    spec: ArgSpec,
    multi_sources: Sequence[Mapping[str, Sequence[Any]]],
    json_body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge the sources by wire name; the first source that has a value wins.

    ``multi_sources`` map a key to all its values (query string, then form); lists take every
    value (``ids=1&ids=2``), scalars the first. The JSON body comes last.
    """
    data: dict[str, Any] = {}
    for name, field in spec.readable().items():
        wire = wire_name(name, field)
        for source in multi_sources:
            values = source.get(wire)
            if values:
                data[wire] = _pick(field, values)
                break
        else:
            if json_body is not None and wire in json_body:
                data[wire] = json_body[wire]
    return data


def validate(spec: ArgSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate merged wire data; answer the keyword arguments for the module.

    Raises :class:`InvalidInput` with ``{"wire name": ["message", ...]}``.
    """
    try:  # loading emits no legacy warnings (building the schema did): no filter on this path
        loaded = spec.schema.load(data)
    except marshmallow.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput(dict(messages)) from None
    return dict(loaded)


def parse(
    spec: ArgSpec,
    multi_sources: Sequence[Mapping[str, Sequence[Any]]],
    json_body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect and validate in one step."""
    return validate(spec, collect(spec, multi_sources, json_body))
