"""Running due syncs: the host scheduler (``runner``, for cron and ``ledgersync scheduler``) and
the Celery scale-out (``workers``)."""
