"""``python -m sandbox``: the development server with the sandbox LMS (:mod:`sandbox.devserver`)."""

from sandbox.devserver import main

main()
