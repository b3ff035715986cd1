"""The e-mail preferences page and the unsubscribe pages.

``GET /mail/preferences`` (needs the launch token, like every page in the LMS frame; any widget
may link to it) lists every registered kind of e-mail with a checkbox; ``POST`` saves the
person's choices and answers 303 back to the page.

The unsubscribe pages: ``GET /mail/unsubscribe/<token>`` asks to confirm, ``POST`` to the same
address turns that kind of e-mail off (RFC 8058 one-click: mail programs POST
``List-Unsubscribe=One-Click`` to it). No launch is needed: the signed token names the person
and the kind, and a token that does not verify is a 404 page that changes nothing."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from plugin.db import db_session, unit_of_work
from plugin.mail import services
from plugin.pages import back, render
from plugin.web import current, launch_required

bp = Blueprint("mail", __name__, url_prefix="/mail", template_folder="templates")


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    """What the link would turn off, with a button to confirm (a GET changes nothing: link
    scanners open links in e-mail)."""
    with unit_of_work() as session:
        current = services.subscription(session, _secret(), token)
    return _page(current, token, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str) -> str:
    """Turn the token's kind off (``resubscribe=1`` from the page's second button: back on)."""
    subscribe = request.form.get("resubscribe") == "1"
    with unit_of_work() as session:
        current = services.change_subscription(session, _secret(), token, subscribe=subscribe)
    return _page(current, token, done=True)


def _page(current: services.Subscription, token: str, *, done: bool) -> str:
    action = url_for("mail.unsubscribe", token=token)
    return render_template("mail/unsubscribe.html", sub=current, done=done, action=action)


@bp.route("/preferences", methods=["GET", "POST"])
@launch_required
def preferences() -> str | Response:
    """The launch's person's e-mail preferences: one labelled checkbox per registered kind."""
    user_id = current().user.id
    if request.method == "POST":
        with unit_of_work() as session:
            services.save_preferences(session, user_id, request.form.getlist("kind"))
        return back("mail.preferences", saved=1)
    return render(
        "mail/preferences.html",
        prefs=services.preferences(db_session(), user_id),
        email=current().user.email,
        saved=request.args.get("saved", ""),
    )
