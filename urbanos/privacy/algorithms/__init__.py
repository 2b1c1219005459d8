"""The algorithm register in the Eurocities algorithmic transparency standard v0.3.1 (:mod:`.fields`)."""
