"""The sandbox LMS: an LTI 1.3 / Advantage platform for development and tests, beside the product
(``plugin/``) and never inside it: nothing in ``plugin`` imports it and the wheel leaves it out.

- :mod:`sandbox.platform` — the platform itself, without a web framework, one module per service
  (OIDC launch, deep linking, token, NRPS, AGS, dynamic registration) over the course model;
- :mod:`sandbox.web` — its HTTP endpoints as a Flask blueprint, and its pages' templates;
- :mod:`sandbox.mount` — mounting it on the tool's app and registering it on both sides;
- :mod:`sandbox.devserver` — ``make run`` (``python -m sandbox``): the tool with the sandbox;
- :mod:`sandbox.client` — driving a launch over HTTP without a browser (tests).
"""
