"""Times on pages: "4 min ago" for people, the exact time on hover, ISO for machines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controllers.templating import moment


def test_a_time_reads_as_ago_with_the_exact_time_on_hover() -> None:
    at = datetime.now(UTC) - timedelta(minutes=4, seconds=10)
    html = str(moment(at))
    assert html == (
        f'<time datetime="{at.isoformat()}" title="{at.strftime("%Y-%m-%d %H:%M:%S")} UTC">'
        "4 min ago</time>"
    )


def test_a_ledger_time_written_as_iso_text_reads_the_same_way() -> None:
    at = datetime.now(UTC) - timedelta(hours=3)
    assert ">3 h ago</time>" in str(moment(at.isoformat()))
    naive = (datetime.now(UTC) - timedelta(days=2)).replace(tzinfo=None).isoformat()
    assert ">2 d ago</time>" in str(moment(naive))  # a time without a zone is taken as UTC


def test_no_time_says_what_the_page_asks_and_is_escaped() -> None:
    assert str(moment(None)) == "never"
    assert str(moment("", none="<not yet>")) == "&lt;not yet&gt;"
