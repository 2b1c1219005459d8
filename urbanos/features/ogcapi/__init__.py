"""OGC API Features (Parts 1–4) over the feature store."""
