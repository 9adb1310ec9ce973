"""Finding a client: validation of what is typed, unknown ids, recent list, announcements, page title."""

from __future__ import annotations

import pytest

from dashboard.session import RECENT_LIMIT, ClientSession, parse_client_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100002", (100002, None)),
        (" 100 002 ", (100002, None)),
        ("100\u202f002", (100002, None)),
        ("", (None, "error.empty")),
        (None, (None, "error.empty")),
        ("   ", (None, "error.empty")),
        ("abc", (None, "error.malformed")),
        ("-1", (None, "error.malformed")),
        ("1e5", (None, "error.malformed")),
        ("100002; DROP TABLE features", (None, "error.malformed")),
        ("<script>", (None, "error.malformed")),
        ("1" * 13, (None, "error.malformed")),
        ("１２３", (None, "error.malformed")),
    ],
)
def test_parse_client_id_refuses_anything_but_digits(text, expected):
    assert parse_client_id(text) == expected


def test_show_loads_the_client_and_announces_the_decision(session, client_ids):
    assert session.show_text(str(client_ids[0]))
    snapshot = session.snapshot
    assert snapshot.sk_id == client_ids[0] == session.client_id
    assert session.error == ""
    assert str(client_ids[0]) in session.announcement
    assert str(client_ids[0]) in session.page_title()
    assert 0 <= snapshot.explanation.probability <= 1


@pytest.mark.parametrize("text", ["abc", "<img src=x onerror=alert(1)>", "99999999999", "", "1" * 500])
def test_bad_input_sets_a_message_and_keeps_the_current_client(session, client_ids, text):
    session.show(client_ids[0])
    assert not session.show_text(text)
    assert session.error
    assert session.snapshot.sk_id == client_ids[0]
    assert len(session.error) < 200


def test_unknown_id_is_reported_by_number(session):
    assert not session.show(999999999)
    assert "999999999" in session.error
    assert session.snapshot is None


def test_recent_clients_are_most_recent_first_without_duplicates(cockpit, client_ids):
    session = ClientSession(cockpit)
    for sk_id in [*client_ids, client_ids[0]]:
        session.show(sk_id)
    assert session.recent[0] == client_ids[0]
    assert len(session.recent) == len(set(session.recent)) <= RECENT_LIMIT


def test_snapshot_of_unknown_client_is_none(cockpit):
    assert cockpit.snapshot(1, "fr") is None


def test_page_title_without_client(cockpit):
    assert ClientSession(cockpit, lang="fr").page_title() == "Scoring crédit – aucun client – Prêt à dépenser"
    assert ClientSession(cockpit, lang="en").page_title() == "Credit scoring – no client – Prêt à dépenser"
