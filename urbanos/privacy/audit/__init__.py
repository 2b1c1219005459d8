"""The audit trail: an append-only, hash-chained log of reads of non-open data and of changes (tokens, roles,
access levels, register entries), written in batches (:mod:`.log`), proved by :mod:`.chain`."""
