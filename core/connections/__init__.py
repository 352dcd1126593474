"""A connection's lifecycle: connecting each side (``setup``), settings, sync periods and
disconnecting (``lifecycle``), failure and restore notices (``alerts``), and the pure rules of
when it syncs (``schedule``)."""
