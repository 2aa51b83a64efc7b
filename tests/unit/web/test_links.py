"""The page's address and id: from the settings, else from the request."""

from __future__ import annotations

from incident_service.web import links


def test_the_setting_wins_over_the_request() -> None:
    site = links.site("Acme", "https://status.example.com/", "http://10.0.0.7:8000/")
    assert site.url == "https://status.example.com"
    assert site.incident_url("INC-3") == "https://status.example.com/incidents/INC-3"


def test_without_a_setting_the_page_is_below_the_request_address() -> None:
    site = links.site("Acme", "", "http://127.0.0.1:8000/prefix/")
    assert site.url == "http://127.0.0.1:8000/prefix/status"
    assert site.incident_url("INC-3") == "http://127.0.0.1:8000/prefix/status/incidents/INC-3"


def test_the_page_id_is_stable_short_and_independent_of_the_request() -> None:
    a = links.site("Acme", "", "http://a.example/")
    b = links.site("Acme", "", "http://b.example/")
    assert a.id == b.id
    assert len(a.id) == 12 and a.id.isalnum() and a.id.islower()
    assert links.site("Other", "", "http://a.example/").id != a.id
    assert links.site("Acme", "https://s.example", "http://a.example/").id != a.id
