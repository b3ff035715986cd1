"""One module per format: each parses and checks its input into a
:class:`~plugin.performance.frameworks.parsed.ParsedFramework` (:mod:`.case`, :mod:`.moodle_csv`);
:mod:`.text` holds what both need to read text (decoding, JSON, length and storability checks)."""
