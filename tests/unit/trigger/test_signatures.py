"""Standard Webhooks signing and verification, with the spec's published test vector."""

from __future__ import annotations

import pytest
from scenarist_trigger import credentials
from scenarist_trigger.credentials import SignatureError, sign, signing_key, verify

# From the Standard Webhooks specification / reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
KEY = signing_key(SECRET)


def test_known_vector() -> None:
    assert sign(KEY, MSG_ID, TIMESTAMP, BODY) == EXPECTED


def test_valid_signature_passes_among_several() -> None:
    header = f"v1,bm90IGl0 v1a,whatever {EXPECTED}"
    verify([KEY], MSG_ID, str(TIMESTAMP), header, BODY, now=TIMESTAMP + 10)


def test_previous_key_still_verifies_during_rotation() -> None:
    new_key = signing_key(credentials.new_signing_secret())
    verify([new_key, KEY], MSG_ID, str(TIMESTAMP), EXPECTED, BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "header", "body", "now", "reason"),
    [
        (None, str(TIMESTAMP), EXPECTED, BODY, TIMESTAMP, "missing"),
        (MSG_ID, None, EXPECTED, BODY, TIMESTAMP, "missing"),
        (MSG_ID, str(TIMESTAMP), None, BODY, TIMESTAMP, "missing"),
        (MSG_ID, str(TIMESTAMP), EXPECTED, BODY, TIMESTAMP + 301, "tolerance"),
        (MSG_ID, str(TIMESTAMP), EXPECTED, BODY, TIMESTAMP - 301, "tolerance"),
        (MSG_ID, "16142653e0", EXPECTED, BODY, TIMESTAMP, "Unix time"),
        (MSG_ID, str(TIMESTAMP), EXPECTED, b'{"test":2432232314}', TIMESTAMP, "no valid"),
        ("msg_other", str(TIMESTAMP), EXPECTED, BODY, TIMESTAMP, "no valid"),
        (MSG_ID, str(TIMESTAMP), "v2," + EXPECTED[3:], BODY, TIMESTAMP, "no valid"),
        (MSG_ID, str(TIMESTAMP), "v1,AAAA", BODY, TIMESTAMP, "no valid"),
        (MSG_ID, str(TIMESTAMP), "v1,é", BODY, TIMESTAMP, "no valid"),
    ],
)
def test_rejections(
    msg_id: str | None,
    timestamp: str | None,
    header: str | None,
    body: bytes,
    now: float,
    reason: str,
) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify([KEY], msg_id, timestamp, header, body, now=now)


def test_no_keys_verifies_nothing() -> None:
    with pytest.raises(SignatureError):
        verify([], MSG_ID, str(TIMESTAMP), EXPECTED, BODY, now=TIMESTAMP)


def test_secrets_and_tokens_are_random_and_hashed() -> None:
    token = credentials.new_url_token()
    assert len(token) >= 43 and token != credentials.new_url_token()
    assert len(credentials.token_hash(token)) == 32
    key = credentials.new_api_key()
    assert credentials.secret_matches(key, credentials.secret_hash(key))
    assert not credentials.secret_matches(key + "x", credentials.secret_hash(key))
    assert not credentials.secret_matches(key, None)
    assert len(signing_key(credentials.new_signing_secret())) == 32
