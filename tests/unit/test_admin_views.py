"""`list` a page at a time, and an App Home that summarises: what an admin with hundreds of
environments sees."""

from __future__ import annotations

import re
from typing import Any

from bot.core import notices as n
from bot.core.states import State
from bot.slack import blocks
from bot.slack.limits import violations
from bot.slack.render import HOME_SHOWN, LIST_PAGE_SIZE, home_view, render
from tests.unit.test_render_at_largest import NOW, OWNER, environment

ADMIN = "U0ADMIN"


def _fleet(count: int) -> list[Any]:
    """``count`` environments: every tenth waiting for approval, every tenth deploying, the rest ready."""
    states = [State.PENDING_APPROVAL, State.DEPLOYING] + [State.READY] * 8
    return [
        environment(i, states[i % 10], owner=f"U0OWNER{i % 40:02d}", profile="small", cluster="dev")
        for i in range(count)
    ]


def _names(message: dict[str, Any]) -> list[str]:
    return [
        re.match(r"\*([^*]+)\*", b["text"]["text"]).group(1)  # type: ignore[union-attr]
        for b in message["blocks"][1:]
        if b["type"] == "section"
    ]


def _paging(message: dict[str, Any]) -> dict[str, str]:
    return {
        e["action_id"]: e["value"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] in (blocks.ACTION_LIST_PREVIOUS, blocks.ACTION_LIST_NEXT)
    }


def _page(envs: list[Any], page: int, *, everyone: bool = True) -> dict[str, Any]:
    return render(n.EnvironmentListing(envs, everyone=everyone, admin=everyone, now=NOW, page=page))


def test_each_environment_is_on_exactly_one_page_most_relevant_first() -> None:
    envs = _fleet(200)
    pages = [_page(envs, page) for page in range(1, 11)]
    seen = [name for message in pages for name in _names(message)]
    assert sorted(seen) == sorted(env.name for env in envs)
    assert all(len(_names(message)) == LIST_PAGE_SIZE for message in pages)
    # The 20 waiting for an admin come first, then the 20 deploying.
    waiting = {env.name for env in envs if env.state is State.PENDING_APPROVAL}
    assert set(_names(pages[0])) == waiting
    heading = pages[0]["blocks"][0]["text"]["text"]
    assert "*200 active environment(s)* · page 1 of 10" in heading
    assert "20 :raised_hand: waiting for approval · 20 :gear: deploying · 160 :large_green_circle: ready" in heading
    assert max(len(message["blocks"]) for message in pages) == LIST_PAGE_SIZE + 3
    assert all(violations(message) == [] for message in pages)


def test_paging_buttons_lead_to_the_pages_around_and_out_of_range_pages_are_clamped() -> None:
    envs = _fleet(200)
    assert _paging(_page(envs, 1)) == {blocks.ACTION_LIST_NEXT: "all:2"}
    assert _paging(_page(envs, 5)) == {blocks.ACTION_LIST_PREVIOUS: "all:4", blocks.ACTION_LIST_NEXT: "all:6"}
    assert _paging(_page(envs, 10)) == {blocks.ACTION_LIST_PREVIOUS: "all:9"}
    assert _names(_page(envs, 999)) == _names(_page(envs, 10))
    assert _names(_page(envs, 0)) == _names(_page(envs, 1))
    own = _page(envs, 1, everyone=False)
    assert _paging(own) == {blocks.ACTION_LIST_NEXT: "own:2"}
    assert "`/jupyterhub list <page>`" in own["blocks"][-2]["elements"][0]["text"]


def test_one_page_has_no_paging() -> None:
    message = _page(_fleet(LIST_PAGE_SIZE), 1)
    assert _paging(message) == {} and "page 1 of" not in message["blocks"][0]["text"]["text"]


def test_page_values_are_read_back_and_anything_else_is_refused() -> None:
    assert blocks.read_page_value(blocks.page_value(True, 7)) == (True, 7)
    assert blocks.read_page_value(blocks.page_value(False, 1)) == (False, 1)
    for forged in ("", "all", "all:0", "all:-1", "all:1.5", "own:" + "9" * 5_000, "any:1", "all:²", "all:1 "):
        assert blocks.read_page_value(forged) is None, forged


def test_the_admins_home_summarises_and_shows_their_own_first() -> None:
    envs = [*_fleet(200), environment(999, State.READY, owner=ADMIN, profile="small", cluster="dev")]
    view = home_view(envs, everyone=True, admin=True, viewer=ADMIN, now=NOW)
    assert violations(view, "home") == []
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert texts[0].startswith("*201 active environment(s)*\n20 :raised_hand: waiting for approval")
    shown = texts[1:]
    assert len(shown) == HOME_SHOWN and shown[0].startswith("*e00999")
    # The admin's own have Extend and Delete; everyone's ready ones have Expire.
    first_buttons = [e["action_id"] for e in view["blocks"][3]["elements"]]
    assert first_buttons == [blocks.ACTION_EXTEND, blocks.ACTION_DELETE_NOW, blocks.ACTION_EXPIRE]
    footer = " ".join(e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"])
    assert f"Showing {HOME_SHOWN} of 201" in footer and "`/jupyterhub list all`" in footer
    assert _home_button(view) == {blocks.ACTION_LIST_OPEN: "all:1"}
    assert len(view["blocks"]) <= 2 * HOME_SHOWN + 5


def _home_button(view: dict[str, Any]) -> dict[str, str]:
    return {
        e["action_id"]: e["value"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.ACTION_LIST_OPEN
    }


def test_an_owners_home_with_more_than_fit_points_to_their_list() -> None:
    view = home_view(_fleet(30), everyone=False, admin=False, viewer="U0OWNER00", now=NOW)
    assert violations(view, "home") == []
    assert _home_button(view) == {blocks.ACTION_LIST_OPEN: "own:1"}


def test_an_owners_home_with_few_environments_is_unchanged() -> None:
    envs = [environment(i, State.READY, owner=OWNER) for i in range(3)]
    view = home_view(envs, everyone=False, admin=False, viewer=OWNER, now=NOW)
    assert [b["type"] for b in view["blocks"]] == ["header"] + ["section", "actions"] * 3 + ["context"]
    assert "Showing" not in str(view)
