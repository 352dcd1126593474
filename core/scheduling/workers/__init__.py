"""Distributed dispatch on Celery (the ``ledgersync[celery]`` extra).

- ``settings``: what the worker and beat read from the environment (no Celery import);
- ``dispatch``: which syncs are due, enqueued once per (connection, due time), and what a worker
  does with one (no Celery import: tested and usable without the extra);
- ``claims``: the once-per-due-time identity in Redis (``SET NX`` with an expiry);
- ``app``: the Celery application and its two tasks (imports Celery: only with the extra);
- ``ledgersync worker`` itself is a command in ``core.cli.commands.worker``.

The queue only carries work; the database lease is what guarantees one sync per connection at
a time, and the engine's ``unless_synced_since`` check, made under the lease, is what makes a
duplicate message for a due time that was already synced a harmless no-op.
"""
