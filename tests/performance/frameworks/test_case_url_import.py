"""Importing from a CASE service URL: documents followed to their package, redirects, and
failures (errors, web pages, size, time, private addresses) explained with nothing written."""

from __future__ import annotations

import pytest

from plugin.db import new_session
from plugin.performance import frameworks
from plugin.performance.frameworks import FrameworkImportError
from plugin.performance.models import Framework
from tests.conftest import row_counts
from tests.performance.perf_world import (
    SMART_ID,
)


def test_import_from_a_case_service(app, tenant, case_service) -> None:
    with new_session(app) as session:
        result = frameworks.import_case_url(
            session,
            tenant.platform_id,
            f"{case_service.url}/ims/case/v1p0/CFPackages/{SMART_ID}",
            allow_private_hosts=True,
        )
        assert (result.created, result.total) == (True, 14)
        # A document URL is followed to its package; a redirect is followed too.
        for path in (f"/ims/case/v1p0/CFDocuments/{SMART_ID}", "/moved"):
            again = frameworks.import_case_url(
                session, tenant.platform_id, case_service.url + path, allow_private_hosts=True
            )
            assert (again.framework_id, again.unchanged) == (result.framework_id, 14)
        session.commit()
    with new_session(app) as session:
        stored = session.get(Framework, result.framework_id)
        assert stored.source_url == f"{case_service.url}/ims/case/v1p0/CFPackages/{SMART_ID}"


@pytest.mark.parametrize(
    ("path", "options", "message"),
    [
        ("/missing", {}, "answered 404"),
        ("/page", {}, "returned a web page"),
        ("/big", {"max_bytes": 100_000}, "larger than"),
        ("/slow", {"timeout": 0.5}, "did not answer within 0.5 seconds"),
    ],
)
def test_case_service_failures_are_explained(
    app, tenant, case_service, path, options, message
) -> None:
    counts = row_counts(app)
    with new_session(app) as session, pytest.raises(FrameworkImportError, match=message):
        frameworks.import_case_url(
            session,
            tenant.platform_id,
            case_service.url + path,
            allow_private_hosts=True,
            **options,
        )
    assert row_counts(app) == counts


def test_private_addresses_and_bad_urls_are_refused(app, tenant, case_service) -> None:
    with new_session(app) as session:
        with pytest.raises(FrameworkImportError, match="private or local address"):
            frameworks.import_case_url(session, tenant.platform_id, case_service.url + "/x")
        with pytest.raises(FrameworkImportError, match="absolute http"):
            frameworks.import_case_url(session, tenant.platform_id, "file:///etc/passwd")
        with pytest.raises(FrameworkImportError, match="Could not connect"):
            frameworks.import_case_url(
                session, tenant.platform_id, "http://127.0.0.1:9/x", allow_private_hosts=True
            )
