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

from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import SkipField, empty, get_error_detail
from rest_framework.utils import html
from rest_framework.utils.serializer_helpers import BindingDict


class SharedFieldsSerializer(serializers.Serializer[Any]):
    # Bound by the first instance of each class (see ``fields``), never per instance.
    _shared_fields: ClassVar[BindingDict]

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
        return fields

    def to_internal_value(self, data: Any) -> Any:
        # Form and query input gives absent fields values of their own (a missing checkbox is
        # False): only a JSON object takes the short way.
        if not isinstance(data, Mapping) or html.is_html_input(data):
            return super().to_internal_value(data)
        validated: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        # A bound field's name is its key here (``BindingDict`` binds it so).
        for name, field in self.fields.items():
            if field.read_only or (name not in data and not _matters_when_absent(field)):
                continue
            check = getattr(self, "validate_" + name, None)
            try:
                value = field.run_validation(field.get_value(data))
                if check is not None:
                    value = check(value)
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
