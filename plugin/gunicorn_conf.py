"""gunicorn settings for Learning Commons:
``gunicorn -c python:plugin.gunicorn_conf -w 4 -b 0.0.0.0:8000 'plugin:create_app()'``.

The access log goes to stdout without launch credentials (``plugin.logredact.GunicornLogger``:
``lc=`` URL tokens, bearer page tokens and launch cookies are written as ``[redacted]``, whatever
``--access-logformat`` asks for). Command-line options and ``GUNICORN_CMD_ARGS`` override these.
"""

logger_class = "plugin.logredact.GunicornLogger"
accesslog = "-"
errorlog = "-"
