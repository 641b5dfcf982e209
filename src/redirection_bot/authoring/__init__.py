"""Tools for the program's authors and for tests: clinicians' YAML conversation tests, their
coverage and its HTML report, and test helpers (also for plug-in authors)."""
