"""Log lines are JSON and never carry PHI, tokens or the Authorization header."""

from __future__ import annotations

import io
import json
import logging

import pytest

from config.logging import JsonFormatter, RedactFilter, RequestIdFilter, redact
from config.request_context import choose_request_id, current_request_id


def _render(logger_name: str, msg: str, *args, **extra) -> dict:
    record = logging.getLogger(logger_name).makeRecord(
        logger_name, logging.WARNING, __file__, 1, msg, args, None, extra=extra
    )
    for log_filter in (RequestIdFilter(), RedactFilter()):
        assert log_filter.filter(record)
    return json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Token 0123456789abcdef", "0123456789abcdef"),
        ("{'HTTP_AUTHORIZATION': 'Token s3cr3t'}", "s3cr3t"),
        ("header authorization=Bearer abc.def.ghi", "abc.def.ghi"),
        ('{"last_name": "Smith", "id": 3}', "Smith"),
        ("first_name=Jane&date_of_birth=1980-05-17", "1980-05-17"),
        ("member_id: M-99-12", "M-99-12"),
        ("password='hunter2'", "hunter2"),
    ],
)
def test_redaction_removes_secrets_and_phi(text, secret):
    assert secret not in redact(text)
    assert "[REDACTED]" in redact(text)


def test_ordinary_messages_pass_unchanged():
    assert redact("Not Found: /api/v1/claims/12/") == "Not Found: /api/v1/claims/12/"


def test_a_record_is_one_json_object_without_the_request(rf):
    request = rf.get("/api/v1/claims/", HTTP_AUTHORIZATION="Token topsecret")
    entry = _render(
        "django.request",
        "Bad Request: %s %s",
        "/api/v1/patients/",
        "last_name=Smith",
        request=request,
        status_code=400,
    )
    assert entry["level"] == "WARNING"
    assert entry["status_code"] == 400
    assert "topsecret" not in json.dumps(entry)
    assert "Smith" not in json.dumps(entry)
    assert "request" not in entry


def test_exceptions_log_their_type_and_frames_but_not_their_message():
    try:
        raise ValueError("patient Jane Smith born 1980-05-17")
    except ValueError:
        import sys

        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["exception"] == "ValueError"
    assert "Jane" not in json.dumps(entry)
    assert "test_json_logging.py" in entry["stack"][0]


def test_the_current_request_id_is_stamped_on_records():
    token = current_request_id.set("req-7")
    try:
        assert _render("app", "hello")["request_id"] == "req-7"
    finally:
        current_request_id.reset(token)


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("abc-123", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("has space", False),
        ("x\ny", False),
        (None, False),
    ],
)
def test_only_safe_request_ids_are_kept(incoming, kept):
    chosen = choose_request_id(incoming)
    assert (chosen == incoming) is kept
    assert chosen


@pytest.fixture
def django_log():
    """What the django loggers write, through the project's JSON handler setup."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    logger = logging.getLogger("django")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.mark.integration
def test_a_request_logs_no_phi_or_token(world, django_log):
    world.acme.client.get("/api/v1/patients/999999/?last_name=Smith", HTTP_X_REQUEST_ID="trace-1")
    world.acme.client.post(
        "/api/v1/patients/", {"first_name": "Jane", "last_name": "Smith", "date_of_birth": "not-a-date"}
    )
    logged = django_log.getvalue()
    lines = [json.loads(line) for line in logged.splitlines()]
    assert len(lines) == 2, logged
    assert lines[0]["request_id"] == "trace-1"
    assert lines[0]["status_code"] == 404
    assert "Smith" not in logged
    assert world.acme.token not in logged
