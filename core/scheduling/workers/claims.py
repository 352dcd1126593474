"""Once per due time: each due sync's identity is claimed in Redis with ``SET NX EX``.

A claim lives ``ttl`` seconds. While it lives, beat does not enqueue that due sync again; when
it expires and the connection is still due (the job was lost with a dead worker, or its run
failed), the next beat enqueues it again. Needs the ``redis`` client (the celery extra).
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

__all__ = ["RedisClaims"]


class RedisClaims:
    """Claims under ``prefix`` in the Redis at ``url``."""

    def __init__(self, url: str, *, prefix: str, ttl: int) -> None:
        self.client = redis.Redis.from_url(url)
        self.prefix = f"{prefix}due:"
        self.ttl = ttl

    def __repr__(self) -> str:  # the URL may carry a password
        return f"RedisClaims(prefix={self.prefix!r}, ttl={self.ttl})"

    def claim(self, identities: Sequence[str]) -> list[bool]:
        """Claim each identity; True for those nobody had claimed (one round trip)."""
        if not identities:
            return []
        pipe = self.client.pipeline(transaction=False)
        for identity in identities:
            pipe.set(self.prefix + identity, b"1", nx=True, ex=self.ttl)
        return [bool(answer) for answer in pipe.execute()]

    def release(self, identity: str) -> None:
        self.client.delete(self.prefix + identity)

    def close(self) -> None:
        self.client.close()
