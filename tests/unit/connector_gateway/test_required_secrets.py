"""Which fields a connection type needs before CreateConnection accepts it."""

from __future__ import annotations

from scenarist_connector_gateway.connections import missing_secrets


def test_a_basic_user_name_may_be_a_plain_parameter() -> None:
    # The database and SMTP apps declare the user name a parameter, the password a secret.
    assert missing_secrets("basic", {"password": "pw"}, {"username": "ann"}) == []
    assert missing_secrets("basic", {"username": "ann", "password": "pw"}) == []
    assert missing_secrets("basic", {"password": "pw"}) == ["username"]


def test_a_password_or_key_never_comes_from_the_parameters() -> None:
    assert missing_secrets("basic", {}, {"username": "ann", "password": "pw"}) == ["password"]
    assert missing_secrets("api_key", {}, {"api_key": "k"}) == ["api_key"]
    assert missing_secrets("bearer", {"token": "t"}) == []
