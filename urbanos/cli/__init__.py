"""The command line: a thin wrapper over the library."""
