"""Use cases without click, shared by the CLI and the exporter; this machine's files."""
