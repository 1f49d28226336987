"""The chain picture: an SVG of functions and relationships, drawn by the server and shown in the chain's admin page."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from apps.chains.models import Chain
from apps.chains.picture import chain_picture_svg
from tests.apps.jobs import link
from tests.support import admin_login

pytestmark = pytest.mark.usefixtures("registry")
SVG = "{http://www.w3.org/2000/svg}"


def incident_chain() -> Chain:
    """split fans out to log (condition and CEL) and echo (LLM); log continues to wait (inactive)."""
    chain = Chain.objects.create(name="incident")
    link(chain, "core.basic.split", "core.basic.log", condition="result.index < 10 && result.index >= 0",
         transformation='{"message": "item " + string(result.index), "level": "warning"}')
    link(chain, "core.basic.split", "core.basic.echo", transformation="Put the item under data",
         transformation_kind="llm")
    link(chain, "core.basic.log", "core.basic.wait", transformation='{"seconds": 0}', active=False, delay_seconds=30)
    return chain


def parsed(chain: Chain) -> ET.Element:
    return ET.fromstring(chain_picture_svg(chain=chain))


def groups(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if kind in g.get("class", "").split()]


def labels_of(svg: ET.Element) -> dict[str | None, list[str]]:
    """Label lines by relationship id."""
    return {g.get("data-relationship"): [t.text or "" for t in g.iter(f"{SVG}tspan")]
            for g in groups(svg, "chain-edge-label")}


def test_every_function_is_a_box_and_every_relationship_an_arrow_with_its_label(db: None) -> None:
    svg = parsed(incident_chain())

    nodes = {g.get("data-function"): g for g in groups(svg, "chain-node")}
    edges = {(g.get("data-from"), g.get("data-to")): g for g in groups(svg, "chain-edge")}

    assert set(nodes) == {"core.basic.split", "core.basic.log", "core.basic.echo", "core.basic.wait"}
    assert "entry" in (nodes["core.basic.split"].get("class") or "")
    assert "entry" not in (nodes["core.basic.log"].get("class") or "")
    assert set(edges) == {("core.basic.split", "core.basic.log"), ("core.basic.split", "core.basic.echo"),
                          ("core.basic.log", "core.basic.wait")}
    labels = labels_of(svg)

    def label(pair: tuple[str, str]) -> list[str]:
        return labels[edges[pair].get("data-relationship")]

    assert label(("core.basic.split", "core.basic.log")) == [  # long ones wrap onto two lines, then are cut
        "if result.index < 10 && result.index", ">= 0", '→ {"message": "item " +', 'string(result.index), "level": …']
    assert label(("core.basic.split", "core.basic.echo")) == ["LLM: Put the item under data"]
    assert "llm" in (edges[("core.basic.split", "core.basic.echo")].get("class") or "")
    assert label(("core.basic.log", "core.basic.wait")) == ['→ {"seconds": 0}', "after 30 s", "(inactive)"]
    assert "inactive" in (edges[("core.basic.log", "core.basic.wait")].get("class") or "")


def test_layers_run_left_to_right_from_the_entry_function(db: None) -> None:
    svg = parsed(incident_chain())
    x = {g.get("data-function"): float(next(g.iter(f"{SVG}rect")).get("x") or 0) for g in groups(svg, "chain-node")}
    assert x["core.basic.split"] < x["core.basic.log"] < x["core.basic.wait"]
    assert x["core.basic.log"] == pytest.approx(x["core.basic.echo"], abs=60)


def test_text_is_escaped_and_a_cycle_is_drawn_as_a_return_arc(db: None) -> None:
    chain = Chain.objects.create(name="loop")
    link(chain, "core.basic.echo", "core.basic.log", condition='result.data.size() > 0 || "<b>" == "</svg>"',
         transformation='{"message": "<script>alert(1)</script>"}')
    link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {"again": true}}')

    source = chain_picture_svg(chain=chain)
    svg = ET.fromstring(source)  # still well-formed XML

    assert "<script>" not in source and "&lt;script&gt;" in source
    assert len(groups(svg, "chain-edge")) == 2 and len(groups(svg, "chain-node")) == 2


def test_a_chain_without_relationships_says_so(db: None) -> None:
    assert "No relationships yet" in chain_picture_svg(chain=Chain.objects.create(name="empty"))


@pytest.mark.django_db(transaction=True)
def test_the_chain_admin_page_draws_the_chain_in_a_real_browser(live_server: Any, admin_user: Any, page: Page,
                                                                tmp_path: Path) -> None:
    chain = incident_chain()
    admin_login(page, live_server.url)

    page.goto(f"{live_server.url}/admin/chains/chain/{chain.pk}/change/")
    picture = page.locator("svg.chain-picture")
    picture.wait_for()
    nodes = picture.locator("g.chain-node")
    edges = picture.locator("g.chain-edge")

    assert nodes.count() == 4 and edges.count() == 3
    drawn = [nodes.nth(i).bounding_box() for i in range(nodes.count())]
    assert all(box is not None and box["width"] > 100 and box["height"] > 30 for box in drawn)
    for a, b in itertools.combinations([box for box in drawn if box], 2):
        apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                 or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
        assert apart, "boxes must not overlap"
    assert all((edges.nth(i).locator("path").first.bounding_box() or {}).get("width", 0) > 50 for i in range(3))
    labels = picture.locator("g.chain-edge-label text").all_text_contents()
    assert any("if result.index < 10" in text for text in labels)
    assert any("LLM: Put the item under data" in text for text in labels)
    assert picture.locator("g.chain-node text").all_text_contents() == [
        "core.basic.split", "core.basic.echo", "core.basic.log", "core.basic.wait"]
    picture.screenshot(path=str(tmp_path / "chain-picture.png"))
    page.screenshot(path=str(tmp_path / "chain-page.png"))


@pytest.mark.django_db(transaction=True)
def test_the_add_page_has_no_picture_yet(live_server: Any, admin_user: Any, page: Page) -> None:
    admin_login(page, live_server.url)
    page.goto(f"{live_server.url}/admin/chains/chain/add/")
    page.wait_for_selector("#chain_form")
    assert page.locator("svg.chain-picture").count() == 0
