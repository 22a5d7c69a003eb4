"""Outside text (Helm's words, someone's arguments, a policy's names) is escaped and capped
before it reaches a block, keeping its head and tail; the blocks hold their own limits."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.slack import blocks, limits
from bot.slack.wording import CUT, link, mention, outside, word

_ENTITY_SPLIT = re.compile(r"&(?!amp;|lt;|gt;)")


@given(st.text(alphabet="<>&ab\n", max_size=3_000), st.integers(min_value=20, max_value=1_000))
def test_outside_text_is_escaped_and_within_its_limit_as_sent(text: str, limit: int) -> None:
    quoted = outside(text, limit)
    assert len(quoted) <= limit
    assert "<" not in quoted and ">" not in quoted
    # No escape is ever cut in half.
    assert not _ENTITY_SPLIT.search(quoted)


def test_a_capped_text_keeps_its_head_and_tail() -> None:
    quoted = outside("Error: first " + "<x>" * 5_000 + " the cause", 600)
    assert quoted.startswith("Error: first &lt;x&gt;") and quoted.endswith("&lt;x&gt; the cause")
    assert CUT in quoted and len(quoted) <= 600


def test_short_text_is_only_escaped() -> None:
    assert outside("a < b & c") == "a &lt; b &amp; c"
    assert word("small") == "small"


def test_only_user_ids_become_mentions_and_only_plain_urls_become_links() -> None:
    assert mention("U0ABC123") == "<@U0ABC123>" and mention("W0ABC123") == "<@W0ABC123>"
    assert mention("U0X><!channel") == "U0X&gt;&lt;!channel"
    assert mention("sweep") == "sweep"
    assert link("https://hub.example/ns/") == "<https://hub.example/ns/|https://hub.example/ns/>"
    assert link("https://x|<!channel>") == "https://x|&lt;!channel&gt;"
    assert len(link("https://" + "h" * 5_000)) <= 500


def test_the_blocks_keep_their_limits_and_say_where_they_cut() -> None:
    section = blocks.section("head " + "x" * 5_000 + " tail")
    text = section["text"]["text"]
    assert len(text) == limits.SECTION_TEXT and blocks.TRIMMED in text
    assert text.startswith("head ") and text.endswith(" tail")
    assert len(blocks.header("h" * 500)["text"]["text"]) == limits.HEADER_TEXT
    label = blocks.button("b" * 500, "a", "v")["text"]["text"]
    assert len(label) == limits.BUTTON_TEXT and label.endswith("…")


def test_a_policy_name_too_long_for_an_option_value_is_read_back_from_its_digest() -> None:
    long_name = "gpu-" + "x" * 300
    names = ["small", long_name]
    values = [blocks.choice_value(name) for name in names]
    assert values[0] == "small" and len(values[1]) <= limits.OPTION_VALUE
    assert [blocks.chosen(value, names) for value in values] == names
    assert blocks.chosen("unknown", names) == "unknown"
