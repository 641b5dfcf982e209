"""The webhook operator channel: existing helpline platforms receive handoffs over signed
HTTP (``channel``), with ``signing`` (HMAC-SHA256 over a timestamp and the body) and
``options``. Step by step for a platform integrator: docs/operators.md, "Handoff"."""

from __future__ import annotations

from .channel import WebhookChannel

__all__ = ["WebhookChannel"]
