"""The board pack as a tagged PDF (PDF/UA-1), read back with pikepdf the way assistive
technology and validators read it: the content streams' marked content, the structure
tree, the ParentTree, annotations and the catalog.

Two packs are built once for the module: the sample plan's (39 pages, charts, lists,
contents) and one plan of a small benchmark store (long action tracker tables that run
over several pages, so split tables and repeated header rows are exercised).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
import pytest
from sqlalchemy import select

from benchmarks.synthetic import RegionWriter, Shape
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import BoardPack
from ssp_desktop.reports.export import export_pack, pack_document, prepare_pack
from ssp_desktop.reports.render import render_pdf
from ssp_desktop.reports.tagging import MarkRef, Node, Tagger
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store

TEXT_OPS = {"Tj", "TJ", "'", '"'}
PAINT_OPS = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "INLINE IMAGE"}
ARTIFACT = "Artifact"


@dataclass
class Elem:
    """A structure element as read back."""

    obj: Any
    role: str
    parent: Elem | None
    kids: list[Elem] = field(default_factory=list)
    mcrs: list[tuple[int, int]] = field(default_factory=list)  # (page index, MCID)
    objrs: list[Any] = field(default_factory=list)  # annotation dictionaries

    def walk(self) -> Iterator[Elem]:
        yield self
        for kid in self.kids:
            yield from kid.walk()

    def attr(self, key: str) -> Any:
        attrs = self.obj.get("/A")
        if attrs is None:
            return None
        for a in attrs if isinstance(attrs, pikepdf.Array) else [attrs]:
            if key in a:
                return a[key]
        return None


class Tagged:
    """A PDF read back as tagged content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pdf = pikepdf.open(path)
        self.pages = [p.obj for p in self.pdf.pages]
        self.page_index = {p.objgen: i for i, p in enumerate(self.pages)}
        root = self.pdf.Root.StructTreeRoot
        self.root = Elem(root, "StructTreeRoot", None)
        self._read_kids(self.root, root)
        # (page, mcid) -> marked content's tag; and per page the MCIDs in stream order
        self.marked: list[list[int]] = []
        self.problems: list[str] = []
        for i, page in enumerate(self.pdf.pages):
            self.marked.append(self._scan(i, page))

    # ---------------------------------------------------------------- structure
    def _read_kids(self, elem: Elem, obj: Any) -> None:
        k = obj.get("/K")
        if k is None:
            return
        for kid in k if isinstance(k, pikepdf.Array) else [k]:
            if isinstance(kid, int):
                self._add_mcr(elem, obj.get("/Pg"), int(kid))
            elif kid.get("/Type") == "/MCR":
                self._add_mcr(elem, kid.get("/Pg", obj.get("/Pg")), int(kid.MCID))
            elif kid.get("/Type") == "/OBJR":
                elem.objrs.append(kid.Obj)
            else:
                child = Elem(kid, str(kid.S)[1:], elem)
                assert kid.P.objgen == obj.objgen, f"{child.role}'s /P is not its parent"
                elem.kids.append(child)
                self._read_kids(child, kid)

    def _add_mcr(self, elem: Elem, page: Any, mcid: int) -> None:
        assert page is not None, f"{elem.role} has an MCID and no page"
        elem.mcrs.append((self.page_index[page.objgen], mcid))

    def elements(self) -> list[Elem]:
        return list(self.root.walk())[1:]

    def role(self, role: str) -> list[Elem]:
        return [e for e in self.elements() if e.role == role]

    # ---------------------------------------------------------------- content
    def _scan(self, index: int, page: pikepdf.Page) -> list[int]:
        mcids: list[int] = []
        self._scan_stream(index, pikepdf.parse_content_stream(page), page.obj, [], mcids)
        return mcids

    def _scan_stream(
        self, index: int, ops: Any, owner: Any, stack: list[str | int], mcids: list[int]
    ) -> None:
        for operands, operator in ops:
            op = str(operator)
            if op in ("BDC", "BMC"):
                tag = str(operands[0])[1:]
                props = operands[1] if op == "BDC" else None
                if tag == ARTIFACT:
                    if any(isinstance(s, int) for s in stack):
                        self.problems.append(f"page {index + 1}: artifact inside tagged content")
                    stack.append(ARTIFACT)
                elif isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                    if ARTIFACT in stack:
                        self.problems.append(f"page {index + 1}: tagged content in an artifact")
                    if any(isinstance(s, int) for s in stack):
                        self.problems.append(f"page {index + 1}: MCID inside another MCID")
                    stack.append(int(props.MCID))
                    mcids.append(int(props.MCID))
                else:
                    stack.append(tag)
            elif op == "EMC":
                stack.pop()
            elif op in TEXT_OPS or op in PAINT_OPS:
                if not any(isinstance(s, int) or s == ARTIFACT for s in stack):
                    self.problems.append(f"page {index + 1}: {op} outside marked content")
                if op == "Do":
                    xobject = owner.Resources.XObject[operands[0]]
                    if xobject.get("/Subtype") == "/Form":
                        inner = pikepdf.parse_content_stream(xobject)
                        self._scan_stream(index, inner, xobject, list(stack), mcids)
        if stack:
            self.problems.append(f"page {index + 1}: marked content left open")

    def parent_tree(self) -> dict[int, Any]:
        found: dict[int, Any] = {}

        def walk(node: Any) -> None:
            if "/Nums" in node:
                nums = list(node.Nums)
                for key, value in zip(nums[::2], nums[1::2], strict=True):
                    found[int(key)] = value
            for kid in node.get("/Kids", []):
                walk(kid)

        walk(self.pdf.Root.StructTreeRoot.ParentTree)
        return found


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample plan's pack exported (tagged) and the same document drawn untagged."""
    folder = tmp_path_factory.mktemp("tagged-sample")
    with Store.open(folder / "sample.sqlite", create=True) as store:
        write_sample(store)
        with store.session() as s:
            pack_id = s.scalars(select(BoardPack.id)).one()
            document = pack_document(store, pack_id).document
        result = export_pack(store, pack_id, folder / "pack.pdf")
    plain = folder / "plain.pdf"
    assert render_pdf(document, plain, tagged=False) == result.pages
    return result.path, plain


@pytest.fixture(scope="module")
def sample_pack(sample_files: tuple[Path, Path]) -> Iterator[Tagged]:
    tagged = Tagged(sample_files[0])
    yield tagged
    tagged.pdf.close()


@pytest.fixture(scope="module")
def region_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tagged]:
    """A small plan of the benchmark store (60 actions, 4 measures)."""
    folder = tmp_path_factory.mktemp("tagged-region")
    quarter = Quarter(2024, 2)
    with Store.open(folder / "region.sqlite", create=True) as store:
        built = RegionWriter(store, Shape.scaled(0.12, plans=1)).build()
        pack_id = prepare_pack(store, built.plan_ids[0], quarter, meeting_date=quarter.end_date)
        result = export_pack(store, pack_id, folder / "region.pdf")
    tagged = Tagged(result.path)
    yield tagged
    tagged.pdf.close()


@pytest.fixture(params=["sample", "region"])
def pack(request: pytest.FixtureRequest) -> Tagged:
    return request.getfixturevalue(f"{request.param}_pack")  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- content


def test_everything_drawn_is_tagged_content_or_an_artifact(pack: Tagged) -> None:
    assert pack.problems == []
    assert sum(len(m) for m in pack.marked) > 100


def test_mcids_are_unique_per_page_and_each_owned_once_through_the_parent_tree(
    pack: Tagged,
) -> None:
    owners = Counter(mcr for e in pack.elements() for mcr in e.mcrs)
    by_object = {e.obj.objgen: e for e in pack.elements()}
    tree = pack.parent_tree()
    for index, mcids in enumerate(pack.marked):
        assert len(mcids) == len(set(mcids)), f"page {index + 1} repeats an MCID"
        page = pack.pages[index]
        key = int(page.StructParents)
        array = tree[key]
        assert len(array) == len(mcids), f"page {index + 1}"
        for mcid in mcids:
            assert owners[index, mcid] == 1, f"page {index + 1} MCID {mcid}"
            elem = array[mcid]
            assert (index, mcid) in by_object[elem.objgen].mcrs
    # ...and no element claims marked content that is not in the page.
    drawn = {(i, m) for i, mcids in enumerate(pack.marked) for m in mcids}
    assert set(owners) == drawn


def test_page_furniture_is_an_artifact_not_content(sample_pack: Tagged) -> None:
    text = pypdf.PdfReader(sample_pack.path).pages[5]
    tagged_text: list[str] = []
    in_artifact = [0]

    def before(op: bytes, args: list[Any], *_: Any) -> None:
        if op in (b"BDC", b"BMC"):
            in_artifact.append(in_artifact[-1] or int(str(args[0]) == "/Artifact"))
        elif op == b"EMC":
            in_artifact.pop()

    def visit(chunk: str, *_: Any) -> None:
        if not in_artifact[-1]:
            tagged_text.append(chunk)

    text.extract_text(visitor_operand_before=before, visitor_text=visit)
    joined = " ".join("".join(tagged_text).split())
    assert "Page 6 of" not in joined
    assert "OFFICIAL" not in joined
    assert "Sample data - illustrative only" not in joined
    assert len(joined) > 200


# --------------------------------------------------------------------------- structure


def test_the_tree_is_document_then_sections_in_pack_order(sample_pack: Tagged) -> None:
    (document,) = sample_pack.root.kids
    assert document.role == "Document"
    assert {k.role for k in document.kids} == {"Sect"}
    titles = [str(k.obj.T) for k in document.kids]
    assert titles[:3] == ["Summary sheet", "Contents", "At a glance"]


def test_headings_never_skip_a_level(pack: Tagged) -> None:
    levels = [int(e.role[1]) for e in pack.elements() if re.fullmatch(r"H[1-6]", e.role)]
    assert levels[0] == 1
    assert len(levels) > 10
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels
    assert set(levels) <= {1, 2, 3}


def test_headings_match_the_bookmarks(sample_pack: Tagged) -> None:
    reader = pypdf.PdfReader(sample_pack.path)
    titles = [str(i.title) for i in _flatten(reader.outline)]
    headings = [e for e in sample_pack.elements() if re.fullmatch(r"H[1-3]", e.role)]
    assert len(headings) == len(titles)


def _flatten(items: list[Any]) -> Iterator[Any]:
    for item in items:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def test_every_table_has_header_cells_with_scope(pack: Tagged) -> None:
    tables = pack.role("Table")
    assert len(tables) > 5
    for table in tables:
        assert {k.role for k in table.kids} <= {"THead", "TBody"}
        rows = [r for group in table.kids for r in group.kids]
        assert rows and all(r.role == "TR" for r in rows)
        cells = [c for r in rows for c in r.kids]
        assert all(c.role in ("TH", "TD") for c in cells)
        headers = [c for c in cells if c.role == "TH"]
        assert headers, "a table without header cells"
        for th in headers:
            assert str(th.attr("/Scope")) in ("/Column", "/Row")
        for group in table.kids:
            if group.role == "THead":
                assert all(str(c.attr("/Scope")) == "/Column" for r in group.kids for c in r.kids)
        assert str(table.attr("/Summary") or "").strip()


def test_a_table_split_over_pages_is_one_table_with_its_header_once(region_pack: Tagged) -> None:
    def pages(elem: Elem) -> set[int]:
        return {p for e in elem.walk() for p, _ in e.mcrs}

    split = [t for t in region_pack.role("Table") if len(pages(t)) > 1]
    assert split, "the region pack should have a table running over pages"
    for table in split:
        heads = [g for g in table.kids if g.role == "THead"]
        assert len(heads) <= 1
        if heads:
            assert len(pages(heads[0])) == 1, "repeated header rows must be artifacts"


def test_figures_have_alt_text_and_charts_are_followed_by_their_data(pack: Tagged) -> None:
    figures = pack.role("Figure")
    assert figures
    charts = 0
    for figure in figures:
        assert str(figure.obj.get("/Alt", "")).strip()
        assert figure.mcrs
        parent = figure.parent
        assert parent is not None
        if parent.role == "Sect":
            charts += 1
            following = parent.kids[parent.kids.index(figure) + 1]
            assert following.role == "Table"
    assert charts > 0


def test_lists_are_list_items_with_labels_and_bodies(sample_pack: Tagged) -> None:
    lists = sample_pack.role("L")
    assert lists
    for lst in lists:
        assert lst.kids and all(k.role == "LI" for k in lst.kids)
        for item in lst.kids:
            assert [k.role for k in item.kids] == ["Lbl", "LBody"]


def test_contents_are_toc_items_with_described_links(sample_pack: Tagged) -> None:
    (toc,) = [t for t in sample_pack.role("TOC") if t.parent and t.parent.role == "Sect"]
    items = [k for k in toc.kids]
    assert len(items) >= 6 and all(i.role == "TOCI" for i in items)
    nested = [k for i in items for k in i.kids if k.role == "TOC"]
    assert nested, "H2 entries sit in a TOC inside their H1's entry"
    for item in (e for e in toc.walk() if e.role == "TOCI"):
        assert item.kids[0].role == "Reference"
        (link,) = item.kids[0].kids
        assert link.role == "Link"
        assert link.mcrs and link.objrs


def test_every_link_annotation_is_described_and_in_the_structure(pack: Tagged) -> None:
    tree = pack.parent_tree()
    links = 0
    for index, page in enumerate(pack.pages):
        annots = list(page.get("/Annots", []))
        if annots:
            assert page.Tabs == "/S"
        for annot in annots:
            assert annot.Subtype == "/Link"
            links += 1
            contents = str(annot.get("/Contents", ""))
            assert contents.startswith("Go to ") and ", page " in contents
            owner = tree[int(annot.StructParent)]
            assert owner.S == "/Link"
            # (Its marked content on its own page is a bare MCID, an integer.)
            objrs = [k for k in owner.K if isinstance(k, pikepdf.Dictionary) and k.Type == "/OBJR"]
            assert any(o.Obj.objgen == annot.objgen for o in objrs), f"page {index + 1}"
    assert links > 10


def test_catalog_declares_a_tagged_pdf_ua_document(pack: Tagged) -> None:
    root = pack.pdf.Root
    assert root.MarkInfo.Marked is True
    assert str(root.Lang) == "en-GB"
    assert root.ViewerPreferences.DisplayDocTitle is True
    assert root.StructTreeRoot.ParentTreeNextKey >= len(pack.pages)
    xmp = ET.fromstring(root.Metadata.read_bytes())
    ns = {
        "dc": "http://purl.org/dc/elements/1.1/",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
    }
    title = xmp.find(".//dc:title/rdf:Alt/rdf:li", ns)
    assert title is not None and title.text == str(pack.pdf.docinfo.Title)
    part = xmp.find(".//pdfuaid:part", ns)
    assert part is not None and part.text == "1"


def test_pdfua_check_finds_nothing(pack: Tagged) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pdfua", "check", "--format", "json", str(pack.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout)
    assert report["findings"] == [], report["findings"]
    assert report["summary"]["rules_skipped"] == 0, report["skipped"]
    assert run.returncode == 0


# --------------------------------------------------------------------------- order


def _mcid_texts(path: Path, index: int) -> dict[int, str]:
    """The text of each marked-content sequence on page ``index``."""
    page = pypdf.PdfReader(path).pages[index]
    current: list[int | None] = [None]
    texts: dict[int, list[str]] = {}

    def before(op: bytes, args: list[Any], *_: Any) -> None:
        if op == b"BDC" and isinstance(args[1], dict) and "/MCID" in args[1]:
            current.append(int(args[1]["/MCID"]))
        elif op in (b"BDC", b"BMC"):
            current.append(None)
        elif op == b"EMC":
            current.pop()

    def visit(chunk: str, *_: Any) -> None:
        if current[-1] is not None:
            texts.setdefault(current[-1], []).append(chunk)

    page.extract_text(visitor_operand_before=before, visitor_text=visit)
    return {k: " ".join("".join(v).split()) for k, v in texts.items()}


def test_reading_order_is_the_structure_order_and_pdftotext_agrees(sample_pack: Tagged) -> None:
    """On the "At a glance" page (headings, paragraphs, a list and tables) the text of
    headings, paragraphs, list items and table cells comes out of pdftotext in the
    structure tree's order. (On landscape pages with a chart beside its data table,
    pdftotext's geometric ordering interleaves the two: see docs/accessibility.md.)"""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    sect = next(s for s in sample_pack.root.kids[0].kids if str(s.obj.T) == "At a glance")
    page = next(p for e in sect.walk() for p, _ in e.mcrs)
    texts = _mcid_texts(sample_pack.path, page)
    in_structure = [
        texts.get(m, "")
        for e in sample_pack.root.walk()
        for p, m in e.mcrs
        if p == page and e.role in ("H1", "H2", "H3", "P", "LBody", "TH", "TD")
    ]
    # Each element's first words, as a sighted reader meets them.
    starts = [" ".join(t.split()[:3]) for t in in_structure if t.strip()]
    out = subprocess.run(
        [pdftotext, "-f", str(page + 1), "-l", str(page + 1), str(sample_pack.path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flowing = " ".join(out.split())
    assert all(start in flowing for start in starts), [s for s in starts if s not in flowing]
    # Repeated values ("Final" in every row) cannot be placed: compare the rest.
    unique = [s for s in starts if flowing.count(s) == 1 and starts.count(s) == 1]
    assert len(unique) >= 8
    positions = [flowing.find(s) for s in unique]
    assert positions == sorted(positions), sorted(zip(positions, unique, strict=True))


# --------------------------------------------------------------------------- look


def test_tagging_does_not_change_what_is_drawn(sample_files: tuple[Path, Path]) -> None:
    """The same pack drawn tagged and untagged shows the same text and draws the same
    paths in the same order: the tags only add marked-content operators."""
    tagged, plain = sample_files
    marks = {"BDC", "BMC", "EMC"}
    with pikepdf.open(plain) as a, pikepdf.open(tagged) as b:
        assert "/StructTreeRoot" not in a.Root
        assert len(a.pages) == len(b.pages)
        for pa, pb in zip(a.pages, b.pages, strict=True):
            ops_a = [(list(o), str(op)) for o, op in pikepdf.parse_content_stream(pa)]
            ops_b = [
                (list(o), str(op))
                for o, op in pikepdf.parse_content_stream(pb)
                if str(op) not in marks
            ]
            assert ops_a == ops_b


# --------------------------------------------------------------------------- the tagger


class _Canvas:
    def __init__(self) -> None:
        self.ops: list[str] = []

    def addLiteral(self, text: str) -> None:
        self.ops.append(text)


def test_nested_content_closes_and_reopens_its_parents_marked_content() -> None:
    """A figure inside a table cell: the cell's marked content is closed, the figure's
    opened, then the cell's reopened under a new MCID; nothing nests across elements."""
    tagger, canvas = Tagger(), _Canvas()
    cell = Node("TD")
    figure = Node("Figure", attrs={"Alt": "a sparkline"})
    with tagger.marked(canvas, cell):
        canvas.ops.append("draw cell")
        with tagger.marked(canvas, figure):
            canvas.ops.append("draw figure")
        canvas.ops.append("draw more of the cell")
    assert canvas.ops == [
        "/TD <</MCID 0>> BDC",
        "draw cell",
        "EMC",
        "/Figure <</MCID 1>> BDC",
        "draw figure",
        "EMC",
        "/TD <</MCID 2>> BDC",
        "draw more of the cell",
        "EMC",
    ]
    assert tagger.kids[tagger.root] == [cell]
    assert tagger.kids[cell] == [MarkRef(0, 0), figure, MarkRef(0, 2)]
    assert tagger.page_mcids[0] == [cell, figure, cell]


def test_tagged_content_inside_an_artifact_stays_an_artifact() -> None:
    """A repeated header row is an artifact: whatever is drawn in it is not tagged."""
    tagger, canvas = Tagger(), _Canvas()
    with tagger.artifact(canvas):
        with tagger.marked(canvas, Node("P")):
            canvas.ops.append("draw")
        with tagger.artifact(canvas):
            canvas.ops.append("rule")
    assert canvas.ops == ["/Artifact BMC", "draw", "rule", "EMC"]
    assert tagger.page_mcids == [[]]
    tagger.next_page()
    with pytest.raises(RuntimeError):
        tagger.begin(canvas, Node("P"))
        tagger.next_page()  # something left open at a page break
