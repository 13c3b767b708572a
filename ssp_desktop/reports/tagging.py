"""Tagged PDF (PDF/UA-1) for the board pack: marked content while ReportLab draws, the
structure tree written afterwards.

Open-source ReportLab writes untagged PDFs. The pack is tagged in two steps:

1. **While drawing**, every flowable that carries a role (see
   :mod:`ssp_desktop.reports.blocks`) wraps what it draws in
   ``/Role <</MCID n>> BDC ... EMC`` and the :class:`Tagger` on the canvas records which
   structure element (:class:`Node`) owns each MCID on each page, in drawing order (which
   is reading order). Page furniture, table backgrounds and grid lines, paragraph
   backgrounds and repeated table header rows are wrapped in ``/Artifact BMC ... EMC``.
   A paragraph or table split across pages keeps its node, so one element owns MCIDs on
   several pages. Link annotations made while a ``Link`` element is open are recorded
   against it.
2. **After the build**, :func:`write_structure` opens the file with pikepdf and writes
   the StructTreeRoot (Document > Sect > H1-H3, P, L/LI, Table/THead/TBody/TR/TH/TD,
   Figure, TOC/TOCI/Reference/Link), the ParentTree (a number tree: each page's MCIDs,
   then each annotation), ``/StructParents`` on pages and ``/StructParent`` and
   ``/Contents`` on annotations, ``/Tabs /S`` on pages with links, MarkInfo, Lang,
   ViewerPreferences and an XMP packet claiming PDF/UA-1 (``pdfuaid:part`` 1).

Nested content (a sparkline figure inside a table cell) closes its parent's marked
content, opens its own and, when done, reopens the parent's with a new MCID: marked
content never nests across structure elements, and artifacts never sit inside tagged
content, as PDF/UA requires.

The drawing side has no ReportLab import (it writes operators with
``canvas.addLiteral``); the writer imports pikepdf when called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "ARTIFACT",
    "AnnotRef",
    "MarkRef",
    "Node",
    "Tagger",
    "tagger_of",
    "write_structure",
]


@dataclass(eq=False)
class Node:
    """A structure element: its standard type (``role``), its parent (None: whatever
    element is open when it is first drawn, else the document), and its entries
    (``Alt``, ``Scope``, ``ColSpan``, ``Summary``, ``Contents`` for a link's
    annotations)."""

    role: str
    parent: Node | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # nodes form cycles through parents; keep it short
        return f"Node({self.role})"


@dataclass(frozen=True)
class MarkRef:
    """Marked content ``mcid`` on page ``page`` (0-based)."""

    page: int
    mcid: int


@dataclass(frozen=True)
class AnnotRef:
    """The ``index``-th annotation added to page ``page``."""

    page: int
    index: int


class _Artifact:
    def __repr__(self) -> str:
        return "ARTIFACT"


ARTIFACT = _Artifact()
"""Stack marker: artifact content is open."""

_SUPPRESSED = object()  # tagged content inside an artifact (e.g. a repeated header row)

Item = Node | MarkRef | AnnotRef


class Tagger:
    """Records marked content and annotations for one build pass of one document.

    ``kids[node]`` lists, in drawing order, the node's marked content, annotations and
    child nodes (a child is added when it first gets content). ``page_mcids[p][n]`` is
    the node owning MCID ``n`` on page ``p``."""

    def __init__(self, root: Node | None = None) -> None:
        self.root = root or Node("Document")
        self.kids: dict[Node, list[Item]] = {self.root: []}
        self.page = 0
        self.page_mcids: list[list[Node]] = [[]]
        self.page_annots: list[list[Node | None]] = [[]]
        self._stack: list[object] = []  # Node, ARTIFACT or _SUPPRESSED
        # Per-pass helper nodes (table rows and cells, contents entries), by key.
        self.made: dict[Any, Node] = {}

    # ----------------------------------------------------------------- pages

    def next_page(self) -> None:
        """The canvas moved on to a new page (nothing may be open)."""
        if self._stack:
            raise RuntimeError(f"marked content left open at a page break: {self._stack}")
        self.page += 1
        self.page_mcids.append([])
        self.page_annots.append([])

    # ----------------------------------------------------------------- structure

    @property
    def current(self) -> Node | None:
        """The structure element whose marked content is open, if any."""
        for entry in reversed(self._stack):
            if isinstance(entry, Node):
                return entry
        return None

    @property
    def in_artifact(self) -> bool:
        return any(e is ARTIFACT for e in self._stack)

    def attach(self, node: Node) -> None:
        """Add ``node`` to its parent's kids (and its parent to its own) if not yet."""
        if node in self.kids:
            return
        self.kids[node] = []
        parent = node.parent or self.current or self.root
        self.attach(parent)
        self.kids[parent].append(node)

    def node(self, key: Any, role: str, parent: Node, **attrs: Any) -> Node:
        """The per-pass helper node for ``key``, made on first use."""
        found = self.made.get(key)
        if found is None:
            found = self.made[key] = Node(role, parent, attrs)
        return found

    # ----------------------------------------------------------------- marked content

    def _open(self, canv: Any, entry: object) -> None:
        if isinstance(entry, Node):
            mcids = self.page_mcids[self.page]
            mcid = len(mcids)
            mcids.append(entry)
            self.kids[entry].append(MarkRef(self.page, mcid))
            canv.addLiteral(f"/{entry.role} <</MCID {mcid}>> BDC")
        elif entry is ARTIFACT:
            canv.addLiteral("/Artifact BMC")

    def begin(self, canv: Any, node: Node) -> None:
        """Open marked content for ``node``, closing (for now) whatever is open."""
        if self.in_artifact:
            self._stack.append(_SUPPRESSED)
            return
        self.attach(node)
        if self._stack:
            canv.addLiteral("EMC")
        self._stack.append(node)
        self._open(canv, node)

    def begin_artifact(self, canv: Any) -> None:
        if self.in_artifact:
            self._stack.append(_SUPPRESSED)
            return
        if self._stack:
            canv.addLiteral("EMC")
        self._stack.append(ARTIFACT)
        self._open(canv, ARTIFACT)

    def end(self, canv: Any) -> None:
        """Close the innermost marked content and reopen the enclosing one, if any."""
        entry = self._stack.pop()
        if entry is _SUPPRESSED:
            return
        canv.addLiteral("EMC")
        if self._stack:
            self._open(canv, self._stack[-1])

    @contextmanager
    def marked(self, canv: Any, node: Node) -> Iterator[None]:
        self.begin(canv, node)
        try:
            yield
        finally:
            self.end(canv)

    @contextmanager
    def artifact(self, canv: Any) -> Iterator[None]:
        self.begin_artifact(canv)
        try:
            yield
        finally:
            self.end(canv)

    def annotation(self) -> None:
        """An annotation was added to the current page: it belongs to the open element
        (a Link), or to nothing if none is open."""
        node = self.current
        annots = self.page_annots[self.page]
        if node is not None and not self.in_artifact:
            self.kids[node].append(AnnotRef(self.page, len(annots)))
            annots.append(node)
        else:
            annots.append(None)


def tagger_of(canv: Any) -> Tagger | None:
    """The canvas's tagger, or None when the pack is drawn untagged."""
    tagger = getattr(canv, "ssp_tagger", None)
    return tagger if isinstance(tagger, Tagger) else None


# --------------------------------------------------------------------------- writing

_PDFUA_NS = "http://www.aiim.org/pdfua/ns/id/"


def _xmp(info: dict[str, str], now: dt.datetime) -> bytes:
    """An XMP packet with the document information and the PDF/UA-1 claim."""

    def text(key: str) -> str:
        return escape(info.get(key, ""))

    stamp = now.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    keywords = text("/Keywords")
    subjects = "".join(
        f"<rdf:li>{escape(k.strip())}</rdf:li>" for k in info.get("/Keywords", "").split(",")
    )
    body = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdfuaid="{_PDFUA_NS}">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{text("/Title")}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{text("/Author")}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{text("/Subject")}</rdf:li>
    </rdf:Alt></dc:description>
   <dc:subject><rdf:Bag>{subjects}</rdf:Bag></dc:subject>
   <dc:language><rdf:Bag><rdf:li>{text("lang")}</rdf:li></rdf:Bag></dc:language>
   <pdf:Keywords>{keywords}</pdf:Keywords>
   <pdf:Producer>{text("/Producer")}</pdf:Producer>
   <xmp:CreatorTool>{text("/Creator")}</xmp:CreatorTool>
   <xmp:CreateDate>{stamp}</xmp:CreateDate>
   <xmp:ModifyDate>{stamp}</xmp:ModifyDate>
   <xmp:MetadataDate>{stamp}</xmp:MetadataDate>
   <pdfuaid:part>1</pdfuaid:part>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return body.encode("utf-8")


_FIXED_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def pdf_date(when: dt.datetime) -> str:
    """A PDF date string (UTC), e.g. "D:20261206213000+00'00'"."""
    return when.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def write_structure(
    path: Path,
    tagger: Tagger,
    *,
    lang: str,
    produced_at: dt.datetime | None = None,
    extra_info: dict[str, str] | None = None,
) -> None:
    """Write ``tagger``'s structure tree and the PDF/UA catalog entries into the PDF at
    ``path`` (in place). The document's dates are ``produced_at`` and its /ID comes
    from its content, so equal content makes an equal file; ``extra_info`` adds
    document information entries (the pack's provenance)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pages = [p.obj for p in pdf.pages]
        # The tagger opens a (blank) page after the last showPage.
        if len(tagger.page_mcids) < len(pages) or any(tagger.page_mcids[len(pages) :]):
            raise RuntimeError(
                f"tagging saw {len(tagger.page_mcids)} pages but the PDF has {len(pages)}"
            )
        annots: list[list[Any]] = [list(p.get("/Annots", [])) for p in pages]
        struct_root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        parent_tree: list[list[Any]] = [[None] * len(m) for m in tagger.page_mcids[: len(pages)]]
        annot_parents: list[Any] = []
        elements: dict[int, Any] = {}

        struct_elem, mcr, objr = Name.StructElem, Name.MCR, Name.OBJR
        roles: dict[str, Any] = {}

        def make(node: Node, parent: Any) -> Any | None:
            items = tagger.kids.get(node, [])
            role = roles.get(node.role)
            if role is None:
                role = roles[node.role] = Name("/" + node.role)
            elem = pdf.make_indirect(Dictionary(Type=struct_elem, S=role, P=parent))
            # The element's page: that of its first marked content or annotation. Its
            # marked content on that page is written as bare MCIDs (the spec's short
            # form for content on the element's /Pg), the rest as MCR dictionaries.
            first_page = next((i.page for i in items if not isinstance(i, Node)), None)
            kids: list[Any] = []
            for item in items:
                if isinstance(item, Node):
                    child = make(item, elem)
                    if child is not None:
                        kids.append(child)
                elif isinstance(item, MarkRef):
                    if item.page == first_page:
                        kids.append(item.mcid)
                    else:
                        kids.append(Dictionary(Type=mcr, Pg=pages[item.page], MCID=item.mcid))
                    parent_tree[item.page][item.mcid] = elem
                else:
                    page = pages[item.page]
                    annot = annots[item.page][item.index]
                    annot.StructParent = len(pages) + len(annot_parents)
                    annot_parents.append(elem)
                    description = node.attrs.get("Contents")
                    if description:
                        annot.Contents = String(description)
                    kids.append(Dictionary(Type=objr, Pg=page, Obj=annot))
            if not kids:
                return None  # drawn nothing in the final pass (e.g. an empty cell's node)
            # One kid is written bare (as the spec allows): pdfua 0.1.3's empty-heading
            # rule cannot read a /K array (see docs/accessibility.md).
            elem.K = kids[0] if len(kids) == 1 else Array(kids)
            if first_page is not None:
                elem.Pg = pages[first_page]
            _set_attrs(elem, node, Dictionary, Name, String)
            elements[id(node)] = elem
            return elem

        document = make(tagger.root, struct_root)
        struct_root.K = Array([document]) if document is not None else Array()
        nums = Array()
        for index, owners in enumerate(parent_tree):
            pages[index].StructParents = index
            if any(o is None for o in owners):
                raise RuntimeError(f"page {index + 1}: an MCID belongs to no element")
            nums.append(index)
            nums.append(pdf.make_indirect(Array(owners)))
        for offset, elem in enumerate(annot_parents):
            nums.append(len(pages) + offset)
            nums.append(elem)
        struct_root.ParentTree = pdf.make_indirect(Dictionary(Nums=nums))
        struct_root.ParentTreeNextKey = len(pages) + len(annot_parents)
        for index, page in enumerate(pages):
            if annots[index]:
                page.Tabs = Name.S
                for annot in annots[index]:
                    if "/StructParent" not in annot:
                        raise RuntimeError(f"page {index + 1}: an annotation is not tagged")

        root = pdf.Root
        root.StructTreeRoot = struct_root
        root.MarkInfo = Dictionary(Marked=True)
        root.Lang = String(lang)
        prefs = root.get("/ViewerPreferences", Dictionary())
        prefs.DisplayDocTitle = True
        root.ViewerPreferences = prefs
        when = produced_at or _FIXED_TIME
        pdf.docinfo[Name.CreationDate] = String(pdf_date(when))
        pdf.docinfo[Name.ModDate] = String(pdf_date(when))
        for key, value in (extra_info or {}).items():
            pdf.docinfo[Name("/" + key)] = String(value)
        info = {str(k): str(v) for k, v in pdf.docinfo.items()}
        info["lang"] = lang
        metadata = pdf.make_stream(_xmp(info, when.astimezone(dt.UTC)))
        metadata.Type = Name.Metadata
        metadata.Subtype = Name.XML
        root.Metadata = metadata
        pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.generate, deterministic_id=True)


def _set_attrs(elem: Any, node: Node, dictionary: Any, name: Any, string: Any) -> None:
    attrs = node.attrs
    if attrs.get("Alt"):
        elem.Alt = string(attrs["Alt"])
    if attrs.get("Title"):
        elem.T = string(attrs["Title"])
    table: dict[str, Any] = {}
    if "Scope" in attrs:
        table["Scope"] = name("/" + attrs["Scope"])
    if attrs.get("ColSpan", 1) > 1:
        table["ColSpan"] = attrs["ColSpan"]
    if attrs.get("Summary"):
        table["Summary"] = string(attrs["Summary"])
    if table:
        elem.A = dictionary(O=name.Table, **table)
