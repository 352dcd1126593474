"""One sync of one connection, in the order the data flows: fetch and ingest (``ingest``), plan
into the outbox (``planning``), deliver exactly once (``delivery``), report (``engine``), under
a lease (``leases``); ``diagnosis`` answers why a charge is or is not in the books."""
