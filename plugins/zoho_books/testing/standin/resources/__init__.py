"""The stand-in's handlers by resource; each module exports its ``ROUTES`` (see routing.py)."""
