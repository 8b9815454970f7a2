"""Private plan pages: unguessable URL tokens derived from the athlete id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from generator.core.errors import ConfigError

MIN_SECRET_LENGTH = 16


def plan_secret(env_name: str = "GUIDEGEN_PLAN_SECRET") -> bytes:
    """The HMAC key, from the environment only (never from a file in the project)."""
    secret = os.environ.get(env_name, "")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"plan pages are enabled but ${env_name} is {'too short' if secret else 'not set'}; "
            f"set it to a random string of at least {MIN_SECRET_LENGTH} characters "
            "(e.g. `export GUIDEGEN_PLAN_SECRET=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')`), or set [plans] enabled = false"
        )
    return secret.encode()


def plan_token(secret: bytes, athlete_id: str) -> str:
    """HMAC-SHA256 of the id, truncated to 160 bits, URL-safe base32 (lowercase)."""
    digest = hmac.new(secret, athlete_id.encode(), hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode().lower()


def plan_tokens(plans_config, ids) -> dict[str, str] | None:
    """{athlete id: token} when plan pages are enabled ([plans] in guidegen.toml), else
    None; a missing or short secret is a ConfigError (raised before any work when called
    with no ids)."""
    if not plans_config.enabled:
        return None
    secret = plan_secret(plans_config.secret_env)
    return {i: plan_token(secret, i) for i in ids}


def plan_url(base_url: str, token: str) -> str:
    """The runner's private page: ``<base_url>plans/<token>/``."""
    return f"{base_url.rstrip('/')}/plans/{token}/"


def webcal_url(page_url: str) -> str:
    """The page's ``plan.ics`` as a ``webcal://`` subscription, which calendar apps
    re-fetch (so moved sessions follow); ``webcal`` is the same URL on http(s)."""
    return "webcal://" + page_url.split("://", 1)[-1] + "plan.ics"


def plan_links(base_url: str, token: str) -> dict[str, str]:
    """A runner's private page (``plan_url``) and its calendar subscription
    (``webcal_url``), as the plan page, the email and ``guidegen plans`` give them."""
    url = plan_url(base_url, token)
    return {"plan_url": url, "webcal_url": webcal_url(url)}
