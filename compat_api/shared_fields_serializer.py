"""A DRF serializer whose fields are built once per class instead of once per instance.

DRF deep-copies every declared field — nested serializers and their fields included — each time
a serializer is instantiated (``Serializer.get_fields``). For the request schemas of /v1 that
copy cost about 1 ms of CPU per request, more than the rest of the request path (bench/RESULTS.md).

The fields of a request schema hold no per-request state: validation reads the data it is
given and returns values and errors; nothing is stored on a field. So every instance of a
class can share one set, bound once to a data-less prototype. What a shared field sees through
``parent``/``root`` is that prototype: no ``context`` and ``partial=False``, which is what every
/v1 parse passes anyway. Use it for input-only schemas parsed without context or ``partial``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


class SharedFieldsSerializer(serializers.Serializer):  # type: ignore[type-arg]  # validates plain dicts
    @property
    def fields(self) -> BindingDict:  # type: ignore[override]  # DRF's is a cached_property; same value
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
