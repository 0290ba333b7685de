"""A DRF serializer whose fields are built once per class instead of once per instance.

DRF deep-copies every declared field — nested serializers and their fields included — each time
a serializer is instantiated (``Serializer.get_fields``). For the request schemas of /v1 that
copy cost about 1 ms of CPU per request, more than the rest of the request path (bench/RESULTS.md).

The fields of a request schema hold no per-request state: validation reads the data it is
given and returns values and errors; nothing is stored on a field. So every instance of a
class can share one set, bound once to a data-less prototype. What a shared field sees through
``parent``/``root`` is that prototype: no ``context`` and ``partial=False``, which is what every
/v1 parse passes anyway. Use it for input-only schemas parsed without context or ``partial``.

Validation visits only the fields a JSON object has, plus those that matter when absent
(required, or with a default). DRF runs every declared field and raises ``SkipField`` for each
absent optional one: the chat schema declares ~50 fields (OpenAI's, most accepted and ignored)
and a request sends three or four, so that was most of the parse. The result and the errors
are DRF's, field for field and in the declared order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import SkipField, empty, get_error_detail
from rest_framework.utils import html
from rest_framework.utils.serializer_helpers import BindingDict


@dataclass(frozen=True, slots=True)
class _VisitPlan:
    """What validating a JSON object of one class visits, worked out once per class."""

    # Every writable field by name, with its declared position and ``validate_<name>`` check.
    writable: dict[str, tuple[int, serializers.Field[Any, Any, Any, Any], Callable[[Any, Any], Any] | None]]
    # The writable fields visited even when absent (required, or with a default).
    visited_when_absent: frozenset[str]
    # DRF's ``_read_only_defaults`` looks for these on every validation; the schemas have none.
    has_read_only_defaults: bool


class SharedFieldsSerializer(serializers.Serializer[Any]):
    # Bound by the first instance of each class (see ``fields``), never per instance.
    _shared_fields: ClassVar[BindingDict]
    _visit_plan: ClassVar[_VisitPlan]

    @property
    def fields(self) -> BindingDict:
        shared: BindingDict | None = type(self).__dict__.get("_shared_fields")
        if shared is None:
            shared = type(self)._bind_shared_fields()
        return shared

    @classmethod
    def _bind_shared_fields(cls) -> BindingDict:
        prototype: Any = cls()
        fields = BindingDict(prototype)
        for name, field in prototype.get_fields().items():
            fields[name] = field
        # Set on this very class: a subclass declares other fields and binds its own set.
        cls._shared_fields = fields
        cls._visit_plan = _VisitPlan(
            writable={
                name: (position, field, getattr(cls, "validate_" + name, None))
                for position, (name, field) in enumerate(fields.items())
                if not field.read_only
            },
            visited_when_absent=frozenset(
                name for name, field in fields.items() if not field.read_only and _matters_when_absent(field)
            ),
            has_read_only_defaults=any(field.read_only and field.default is not empty for field in fields.values()),
        )
        return fields

    @classmethod
    def _plan(cls) -> _VisitPlan:
        if "_shared_fields" not in cls.__dict__:
            cls._bind_shared_fields()
        return cls._visit_plan

    def _read_only_defaults(self) -> dict[str, Any]:
        if not type(self)._plan().has_read_only_defaults:
            return {}
        defaults: dict[str, Any] = super()._read_only_defaults()
        return defaults

    def to_internal_value(self, data: Any) -> Any:
        # Form and query input gives absent fields values of their own (a missing checkbox is
        # False): only a JSON object takes the short way.
        if not isinstance(data, Mapping) or html.is_html_input(data):
            return super().to_internal_value(data)
        validated: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        # Only the fields the object has, plus those that matter when absent, in declared order:
        # a request sends three or four of a schema's ~50 fields, and walking all of them was
        # most of the parse.
        plan = type(self)._plan()
        writable = plan.writable
        visited = plan.visited_when_absent.union(name for name in data if name in writable)
        for name in sorted(visited, key=lambda name: writable[name][0]):
            _, field, check = writable[name]
            try:
                value = field.run_validation(field.get_value(data))
                if check is not None:
                    value = check(self, value)
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
            except DjangoValidationError as exc:
                errors[name] = get_error_detail(exc)
            except SkipField:
                pass
            else:
                self.set_value(validated, field.source_attrs, value)
        if errors:
            raise serializers.ValidationError(errors)
        return validated


def _matters_when_absent(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    """An absent field is an error (required) or takes its default; any other is skipped."""
    return bool(field.required) or field.default is not empty
