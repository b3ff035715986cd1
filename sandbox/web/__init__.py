"""HTTP face of the sandbox LTI platform: a Flask blueprint around
:class:`~sandbox.platform.SandboxPlatform`.

The blueprint works on an app of its own (the test-suite serves it on a loopback port) or
mounted inside the tool's app (the ``make run`` sandbox).  Mount it so that
``platform.issuer`` is the absolute URL of ``url_prefix``: every URL the platform hands
out is built from the issuer, never from the incoming request.

The course page (``index``) launches tools into its ``tool-frame`` iframe, applies their
``lti.frameResize`` messages, and offers LTI Platform Storage: its launch forms send
``lti_storage_target=_parent`` (passed on in the login initiation), and it answers
``lti.capabilities``, ``lti.put_data`` and ``lti.get_data`` from the frame, keeping each tool
origin's values apart, for as long as the page is open.

The routes live by audience: :mod:`~sandbox.web.pages` (what a person opens),
:mod:`~sandbox.web.protocol` (OIDC, keys, token, registration, deep-linking return) and
:mod:`~sandbox.web.services` (NRPS, Course Groups, AGS); :mod:`~sandbox.web.responses` holds
what they share.

Endpoints (``<name>.<endpoint>`` for ``url_for``), relative to ``url_prefix``:

==========================================================  ===================  ==========
Path                                                        Endpoint             Methods
==========================================================  ===================  ==========
``/``                                                       ``index``            GET
``/launch``                                                 ``launch``           GET
``/auth``                                                   ``auth``             GET, POST
``/jwks``                                                   ``jwks``             GET
``/jwks/<client_id>``                                       ``client_jwks``      GET
``/token``                                                  ``token``            POST
``/.well-known/openid-configuration``                       ``openid_configuration`` GET
``/register``                                               ``register``         POST
``/dynamic_registration``                                   ``dynamic_registration`` GET
``/deep_link_return``                                       ``deep_link_return`` POST
``/return``                                                 ``return_page``      GET
``/avatars/<user_id>.svg``                                  ``avatar``           GET
``/courses/<context_id>/memberships``                       ``memberships``      GET
``/courses/<context_id>/groups``                            ``groups``           GET
``/courses/<context_id>/group_sets``                        ``group_sets``       GET
``/courses/<context_id>/lineitems``                         ``lineitems``        GET, POST
``/courses/<context_id>/lineitems/<lineitem_id>``           ``lineitem``         GET, PUT, DELETE
``/courses/<context_id>/lineitems/<lineitem_id>/scores``    ``scores``           POST
``/courses/<context_id>/lineitems/<lineitem_id>/results``   ``results``          GET
==========================================================  ===================  ==========
"""

from __future__ import annotations

from flask import Blueprint

from sandbox.platform import SandboxPlatform
from sandbox.platform.model import PlatformError
from sandbox.web.pages import add_page_routes
from sandbox.web.protocol import add_protocol_routes
from sandbox.web.responses import platform_error, security_headers
from sandbox.web.services import add_service_routes

__all__ = ["make_platform_blueprint"]


def make_platform_blueprint(
    platform: SandboxPlatform, name: str = "sandbox", url_prefix: str = "/sandbox"
) -> Blueprint:
    """Expose ``platform`` over HTTP under ``url_prefix`` (see the module docstring)."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix, template_folder="templates")
    bp.after_request(security_headers)
    bp.register_error_handler(PlatformError, platform_error)
    add_page_routes(bp, platform)
    add_protocol_routes(bp, platform)
    add_service_routes(bp, platform)
    return bp
