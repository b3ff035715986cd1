"""Competency frameworks: importing them (1EdTech CASE 1.0 / 1.1 JSON from a file or a CASE service
URL, Moodle competency-framework CSV), reading them, and their staff pages and JSON API.

The package, by job (docs/competencies.md):

- ``importers/case.py``, ``importers/moodle_csv.py`` — each parses its format into the neutral
  :class:`~.parsed.ParsedFramework` (``parsed.py``); ``importers/text.py`` reads text for both;
- ``tree.py`` — the hierarchy checks both formats share;
- ``store.py`` — the upsert into the database; ``fetch.py`` — the guarded fetch of a CASE URL;
- ``imports.py`` — read, parse, store into one platform (trusted callers: the CLI, services);
- ``catalog.py`` — reading frameworks within one platform;
- ``services.py`` — what a launched person may do (they decide permissions), ``views.py`` /
  ``api.py`` / ``schemas.py`` / ``templates/frameworks/`` — the pages and the JSON API.

This module names the entry points other packages and the tests use.
"""

from plugin.performance.frameworks.importers.case import parse_case_package
from plugin.performance.frameworks.importers.moodle_csv import parse_moodle_csv
from plugin.performance.frameworks.imports import (
    import_case_package,
    import_case_url,
    import_document,
    import_moodle_csv,
)
from plugin.performance.frameworks.parsed import FrameworkImportError, ParsedFramework
from plugin.performance.frameworks.store import ImportResult

__all__ = [
    "FrameworkImportError",
    "ImportResult",
    "ParsedFramework",
    "import_case_package",
    "import_case_url",
    "import_document",
    "import_moodle_csv",
    "parse_case_package",
    "parse_moodle_csv",
]
