from __future__ import annotations

import pytest

from accounts.api_key_secret import (
    display_prefix,
    generate_secret,
    hash_api_key,
)
from tests.factories import make_api_key


def test_secrets_are_prefixed_urlsafe_and_carry_at_least_32_random_bytes() -> None:
    secrets = {generate_secret() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert secret.startswith("oar_")
        body = secret.removeprefix("oar_")
        assert len(body) >= 43  # base64 of 32 bytes
        assert set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_the_hash_is_keyed_with_the_server_secret(settings: pytest.FixtureRequest) -> None:
    secret = generate_secret()
    first = hash_api_key(secret)
    settings.SECRET_KEY = "another server"
    assert hash_api_key(secret) != first


@pytest.mark.django_db
def test_the_database_holds_no_secret_only_its_hash_and_a_short_prefix() -> None:
    api_key, secret = make_api_key()
    api_key.refresh_from_db()
    stored = " ".join(str(value) for value in api_key.__dict__.values())
    assert secret not in stored
    assert secret.removeprefix("oar_") not in stored
    assert api_key.secret_hash == hash_api_key(secret)
    assert api_key.prefix == display_prefix(secret)
    assert len(api_key.prefix) == 12
