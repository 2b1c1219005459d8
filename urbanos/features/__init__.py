"""Geodata and tables: imports, OGC API Features, DataStore search and downloads."""
