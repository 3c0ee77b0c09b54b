"""API tokens for the simulated users: one per tenant, so every tenant carries load."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TOKENS_ENV = "ROLLGUARD_API_TOKENS"


def parse_tokens(text: str) -> list[str]:
    """Tokens from `seed_demo` JSON (`{"tenants": [{"token": ...}]}`) or a comma/newline-separated list."""
    stripped = text.strip()
    if "{" in stripped:
        tenants = _seed_document(stripped).get("tenants")
        if not isinstance(tenants, list):
            raise ValueError('seed JSON must hold a "tenants" list, as `manage.py seed_demo` prints it')
        return [str(tenant["token"]) for tenant in tenants if tenant.get("token")]
    return [token.strip() for token in stripped.replace("\n", ",").split(",") if token.strip()]


def _seed_document(text: str) -> dict[str, Any]:
    """The seed JSON, whole or as the last JSON line after any log lines the command printed."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        lines = [line for line in text.splitlines() if line.lstrip().startswith("{")]
        if not lines:
            raise ValueError("tokens text holds no JSON object") from None
        document = json.loads(lines[-1])
    if not isinstance(document, dict):
        raise ValueError("seed JSON must be an object with a tenants list")
    return document


def load_tokens(tokens_file: str | None = None, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Tokens from ROLLGUARD_API_TOKENS, else from `tokens_file`; an error says how to get some."""
    if tokens := parse_tokens(environ.get(TOKENS_ENV, "")):
        return tokens
    if tokens_file:
        path = Path(tokens_file)
        if not path.is_file():
            raise FileNotFoundError(
                f"tokens file {path} does not exist: run `manage.py seed_demo > {path}` or set {TOKENS_ENV}"
            )
        if tokens := parse_tokens(path.read_text(encoding="utf-8")):
            return tokens
    raise ValueError(
        f"no API tokens: set {TOKENS_ENV} (comma-separated, one per tenant) or pass --tokens-file "
        "with the JSON that `python service/manage.py seed_demo` prints"
    )
