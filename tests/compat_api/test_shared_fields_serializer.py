"""SharedFieldsSerializer: fields built once per class, validation state per instance."""

from __future__ import annotations

from rest_framework import serializers

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
