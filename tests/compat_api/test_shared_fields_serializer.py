"""SharedFieldsSerializer: fields built once per class, validation state per instance."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework import serializers as drf

from compat_api.shared_fields_serializer import SharedFieldsSerializer


class _Part(SharedFieldsSerializer):
    text = serializers.CharField()


class _Body(SharedFieldsSerializer):
    name = serializers.CharField(max_length=5)
    parts = _Part(many=True)


def test_instances_of_a_class_share_one_bound_field_set() -> None:
    assert _Body(data={}).fields is _Body(data={}).fields


def test_a_subclass_binds_its_own_fields() -> None:
    class _Extended(_Body):
        extra = serializers.IntegerField()

    assert "extra" in _Extended().fields
    assert "extra" not in _Body().fields


def test_each_instance_keeps_its_own_errors_and_data() -> None:
    good = _Body(data={"name": "abc", "parts": [{"text": "x"}]})
    bad = _Body(data={"name": "too long", "parts": [{}]})
    assert good.is_valid()
    assert not bad.is_valid()
    assert good.validated_data == {"name": "abc", "parts": [{"text": "x"}]}
    assert set(bad.errors) == {"name", "parts"}
    assert good.errors == {}


def test_validation_of_a_json_object_matches_drfs_own_loop() -> None:
    """The short loop (present fields plus required and defaulted ones) gives DRF's result and
    errors, in the declared order."""

    class Fields:
        name = drf.CharField()
        size = drf.IntegerField(min_value=1, required=False)
        mode = drf.ChoiceField(["a", "b"], default="a")
        note = drf.CharField(required=False, allow_null=True)

        def validate_size(self, value: int) -> int:
            if value == 13:
                raise drf.ValidationError("unlucky")
            return value * 2

    class Shared(SharedFieldsSerializer, Fields):  # type: ignore[misc]
        name, size, mode, note = Fields.name, Fields.size, Fields.mode, Fields.note

    class Plain(drf.Serializer, Fields):  # type: ignore[misc, type-arg]
        name, size, mode, note = Fields.name, Fields.size, Fields.mode, Fields.note

    for data in (
        {"name": "x"},
        {"name": "x", "size": 3, "note": None},
        {},
        {"size": 0, "mode": "c"},
        {"name": "x", "unknown": 1},
        {"note": "n", "size": 4, "name": "x"},  # out of declared order: errors and data keep it
        {"size": 13},
    ):
        shared, plain = Shared(data=data), Plain(data=data)
        assert shared.is_valid() == plain.is_valid(), data
        assert shared.errors == plain.errors, data
        assert list(shared.errors) == list(plain.errors), data
        if plain.is_valid():
            assert shared.validated_data == plain.validated_data, data
