"""Module arguments: marshmallow fields in, validated keyword arguments out.

Modules return ``{"name": fields.Int(...)}`` from ``get_predict_args()``/``get_train_args()``,
often with marshmallow 3 spellings (``missing=``, ``description=``, ``type="file"``,
``location="form"``) that land in ``field.metadata``. An :class:`ArgSpec` is built once per
model and method at start-up; :func:`parse` merges the request's sources and validates them.

Where a value is read from follows webargs 5.5.3, which 2.x modules were written against: a
field whose metadata names a ``location`` is read from there only (so a query value never
shadows the upload of a ``location="form"`` file); any other field takes the first of the
query string, the form (fields and uploads) and the JSON body that holds it. One departure: a
file argument without a location takes its upload over text sent elsewhere under its name
(2.x handed the module the text).

We validate with marshmallow directly rather than through a webargs parser, so the behaviour is
the same whichever webargs a module pins (5.5.3 or 8.x): webargs only supplies the ``fields``
and ``validate`` names that modules import.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import marshmallow
from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate

from deepaas.exceptions import InvalidInput

__all__ = ["MASK", "ArgSpec", "Sources", "build_argspec", "client_name", "collect",
           "field_default", "is_file_field", "is_secret", "location_of", "parse", "quiet_legacy",
           "scrub", "validate"]

#: The locations a module may name (webargs 5 spellings) and where we read each.
_LOCATIONS = {"query": "query", "querystring": "query", "form": "form", "json": "json",
              "headers": "headers", "cookies": "cookies", "files": "files",
              # aiohttp's match_info: our routes carry no module arguments, so never present
              "match_info": "path", "path": "path"}
#: Where a field that names no location is looked for, first found wins.
_DEFAULT_ORDER = ("query", "form", "json")
#: How a secret argument's value shows wherever the server shows arguments.
MASK = "***"
# A secret this short is scrubbed from no text: replacing every "ab" of an error message would
# hide the error, and a value of two characters keeps nothing secret anyway.
_SCRUB_MIN = 3

def quiet_legacy(func: Callable[[], Any]) -> Any:
    """Call ``func`` with marshmallow's deprecation warnings about legacy keywords silenced.

    Real modules use ``missing=`` and ``description=``; warning about them on every start
    would only teach users to ignore our logs.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return func()


def client_name(name: str, field: ma_fields.Field) -> str:
    """The name a client uses for this argument (``data_key`` when the module set one)."""
    return field.data_key or name


def is_file_field(field: ma_fields.Field) -> bool:
    """A field declared as a file: ``type="file"`` (legacy keyword or ``metadata=``)."""
    return field.metadata.get("type") == "file"


def is_secret(field: ma_fields.Field) -> bool:
    """A field whose value is a secret: declared ``load_only`` (it goes in, never comes out)
    or ``format: password`` (``metadata={"format": "password"}`` or the legacy keyword
    ``format="password"``, which lands in the metadata too)."""
    return bool(field.load_only) or field.metadata.get("format") == "password"


def _secret_texts(values: Iterable[Any]) -> list[str]:
    """The texts worth scrubbing among secret values (strings, and strings in lists)."""
    found: list[str] = []
    for value in values:
        items = value if isinstance(value, (list, tuple)) else (value,)
        found += [v for v in items if isinstance(v, str) and len(v) >= _SCRUB_MIN]
    return sorted(set(found), key=len, reverse=True)  # a longer one first: none left half shown


def scrub(text: Any, secrets: Sequence[str]) -> Any:
    """``text`` (a string, or dicts and lists of them) with every secret in it shown as
    :data:`MASK`; anything else as it is."""
    if not secrets:
        return text
    if isinstance(text, str):
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text
    if isinstance(text, dict):
        return {key: scrub(value, secrets) for key, value in text.items()}
    if isinstance(text, list):
        return [scrub(value, secrets) for value in text]
    return text


def location_of(field: ma_fields.Field) -> str | None:
    """The one place this field is read from (``query``, ``form``, ``json``, ``headers``,
    ``cookies``, ``files``, ``path``), or None when it takes the default order."""
    raw = field.metadata.get("location")
    return _LOCATIONS[raw] if raw else None


def _check_location(name: str, field: ma_fields.Field) -> None:
    raw = field.metadata.get("location")
    if raw and raw not in _LOCATIONS:
        raise TypeError("argument %r: location %r is not one of %s" % (
            name, raw, ", ".join(sorted(_LOCATIONS))))


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
    def accept_name(self) -> str | None:
        field = self.fields.get("accept")
        return client_name("accept", field) if field is not None and self.has_accept else None

    @property
    def has_accept(self) -> bool:
        return "accept" in self.fields

    def readable(self) -> dict[str, ma_fields.Field]:
        """Fields a client may send (``dump_only`` ones are never read)."""
        return {n: f for n, f in self.fields.items() if not f.dump_only}

    @functools.cached_property
    def secret_names(self) -> frozenset[str]:
        """Arguments whose values are secrets (:func:`is_secret`), by keyword name."""
        return frozenset(n for n, f in self.fields.items() if is_secret(f))

    @functools.cached_property
    def secret_client_names(self) -> frozenset[str]:
        """The same arguments by the names clients send them under (``data_key``)."""
        return frozenset(client_name(n, self.fields[n]) for n in self.secret_names)

    def masked(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``kwargs`` as the server shows them: each secret value as :data:`MASK`."""
        return {k: MASK if k in self.secret_names else v for k, v in kwargs.items()}

    def secrets_in(self, kwargs: Mapping[str, Any]) -> list[str]:
        """The secret texts among keyword arguments, for :func:`scrub`."""
        return _secret_texts(v for k, v in kwargs.items() if k in self.secret_names)

    @functools.cached_property
    def locations(self) -> frozenset[str]:
        """Every place some argument may be read from."""
        found: set[str] = set()
        for field in self.readable().values():
            location = location_of(field)
            found.update((location,) if location else _DEFAULT_ORDER)
        return frozenset(found)

    @functools.cached_property
    def body_names(self) -> frozenset[str]:
        """Wire names that may come as form fields or uploads (other parts are skipped)."""
        return frozenset(client_name(n, f) for n, f in self.readable().items()
                         if location_of(f) in (None, "form", "files"))


def _one_of(field: ma_fields.Field) -> ma_validate.OneOf | None:
    for validator in getattr(field, "validators", []):
        if isinstance(validator, ma_validate.OneOf):
            return validator
    return None


def _share_wildcard(field: ma_fields.Field) -> None:
    """Append ``*/*`` to the module's own list of predict ``accept`` choices, in place, as
    DEEPaaS 2.x did: a train ``accept`` whose validator shares that list (real modules build
    both from one list) then takes ``*/*`` too, and one with a list of its own does not."""
    validator = _one_of(field)
    if validator is not None and isinstance(validator.choices, list) \
            and "*/*" not in validator.choices:
        validator.choices.append("*/*")


def _prepare_accept(field: ma_fields.Field,
                    widen: bool) -> tuple[tuple[str, ...] | None, str | None]:
    """The choices and default of an ``accept`` argument. For predict (``widen``) let ``*/*``
    through and default to the first choice; a train ``accept`` keeps its own (DEEPaaS 2.x
    refused ``Accept: */*`` there with the module's message).

    The validator's message keeps listing the module's own choices, as DEEPaaS 2.x did.
    """
    validator = _one_of(field)
    default = field_default(field)
    if validator is None:
        return None, default if isinstance(default, str) else "application/json"
    choices = [str(c) for c in validator.choices]
    if not widen:
        return tuple(choices), default if isinstance(default, str) else None
    widened = copy.copy(validator)
    widened.choices = choices + (["*/*"] if "*/*" not in choices else [])
    field.validators = [widened if v is validator else v for v in field.validators]
    default = choices[0] if choices else "application/json"
    field.load_default = default
    return tuple(widened.choices), default


def build_argspec(raw: Mapping[str, ma_fields.Field] | None, predict: bool = True) -> ArgSpec:
    """Build the spec from what ``get_*_args()`` returned (unbound or bound fields);
    ``predict`` says whose (an ``accept`` argument is treated differently)."""
    declared: dict[str, ma_fields.Field] = {}
    for name, field in (raw or {}).items():
        if isinstance(field, type) and issubclass(field, ma_fields.Field):
            field = field()
        if not isinstance(field, ma_fields.Field):
            raise TypeError("argument %r is not a marshmallow field: %r" % (name, field))
        _check_location(str(name), field)
        if predict and name == "accept":
            _share_wildcard(field)
        declared[str(name)] = copy.deepcopy(field)
    choices, default = (None, None)
    if "accept" in declared:
        choices, default = _prepare_accept(declared["accept"], widen=predict)
    schema_cls = marshmallow.Schema.from_dict(declared, name="Args")
    schema = quiet_legacy(lambda: schema_cls(unknown=marshmallow.EXCLUDE))
    return ArgSpec(fields=declared, schema=schema, accept_choices=choices, accept_default=default)


@dataclasses.dataclass(frozen=True)
class Sources:
    """What one request holds, by location; each maps a client name to all its values.

    ``form`` holds form fields and uploads alike; ``json`` is the JSON body's object (or None);
    ``headers`` is keyed by lower-cased name (header names ignore case).
    """

    query: Mapping[str, Sequence[Any]] = dataclasses.field(default_factory=dict)
    form: Mapping[str, Sequence[Any]] = dataclasses.field(default_factory=dict)
    json: Mapping[str, Any] | None = None
    headers: Mapping[str, Sequence[Any]] = dataclasses.field(default_factory=dict)
    cookies: Mapping[str, Sequence[Any]] = dataclasses.field(default_factory=dict)

    def values(self, location: str, key: str) -> Sequence[Any] | None:
        """All values under ``key`` at ``location``, or None when it holds none."""
        if location == "json":
            if self.json is None or key not in self.json:
                return None
            return [self.json[key]]
        if location == "headers":
            found = self.headers.get(key.lower())
        elif location == "files":
            found = [v for v in self.form.get(key, ()) if not isinstance(v, str)]
        else:
            found = getattr(self, location, {}).get(key)
        return found or None


def _pick(field: ma_fields.Field, values: Sequence[Any], location: str) -> Any:
    many = isinstance(field, ma_fields.List) and not hasattr(field, "delimiter")
    if location == "json":  # a JSON value is taken whole: a list arrives as one
        value = values[0]
        # one value where a list is expected is a one-item list whose item is checked, as
        # webargs 5 (DEEPaaS 2.x) read it; a delimited list splits its own string
        if many and value is not None and not isinstance(value, (list, tuple)):
            return [value]
        return value
    return list(values) if isinstance(field, ma_fields.List) else values[0]


def _find(sources: Sources, places: Sequence[str], key: str,
          is_file: bool) -> tuple[str, Sequence[Any]] | None:
    """The first place holding ``key``; for a file argument, an upload wins over text found
    earlier (``?img=foo`` beside an upload of ``img``: the module wants the file, and text
    that is not a URL would be refused anyway)."""
    first = None
    for place in places:
        values = sources.values(place, key)
        if not values:
            continue
        if not is_file or not all(isinstance(v, str) for v in values):
            return place, values
        first = first or (place, values)
    return first


def collect(spec: ArgSpec, sources: Sources) -> dict[str, Any]:
    """Merge the sources by client name, each field looked for where it may be read.

    Lists take every value of a multi-valued source (``ids=1&ids=2``), scalars the first.
    """
    data: dict[str, Any] = {}
    for name, field in spec.readable().items():
        key = client_name(name, field)
        location = location_of(field)
        found = _find(sources, (location,) if location else _DEFAULT_ORDER, key,
                      is_file_field(field))
        if found is not None:
            data[key] = _pick(field, found[1], found[0])
    return data


def validate(spec: ArgSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate merged client data; answer the keyword arguments for the module.

    Raises :class:`InvalidInput` with ``{"client name": ["message", ...]}``; a secret value
    a message quotes (a module's own validator may) shows as :data:`MASK`.
    """
    try:  # loading emits no legacy warnings (building the schema did): no filter on this path
        loaded = spec.schema.load(data)
    except marshmallow.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        sent = _secret_texts(v for k, v in data.items() if k in spec.secret_client_names)
        raise InvalidInput(scrub(dict(messages), sent)) from None
    return dict(loaded)


def parse(spec: ArgSpec, sources: Sources) -> dict[str, Any]:
    """Collect and validate in one step."""
    return validate(spec, collect(spec, sources))
