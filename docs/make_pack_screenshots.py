"""Render pages of the sample plan's board pack to docs/screenshots/pack-*.png.

    .venv/bin/python docs/make_pack_screenshots.py [--dpi 60] [--keep FILE.pdf]

Builds the sample plan in a temporary store, exports its board pack with the real
exporter, and renders three pages with poppler's ``pdftoppm`` (Debian package
``poppler-utils``): the summary sheet, the first scorecard page and the first page of
the first priority.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="also copy the PDF here")
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        print("pdftoppm is missing: apt-get install poppler-utils", file=sys.stderr)
        return 2

    import pypdf
    from sqlalchemy import select

    from ssp_desktop.domain.records import BoardPack
    from ssp_desktop.reports.export import export_pack
    from ssp_desktop.sample.plan import write_sample
    from ssp_desktop.store.engine import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with Store.open(folder / "sample.sqlite", create=True) as store:
            write_sample(store)
            with store.session() as s:
                pack_id = s.scalars(select(BoardPack.id)).one()
            result = export_pack(store, pack_id, folder / "pack.pdf")
        texts = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(result.path).pages]

        def first(needle: str) -> int:
            return next(i for i, t in enumerate(texts) if t.startswith(needle)) + 1

        pages = {
            "pack-cover": 1,
            "pack-scorecard": first("Performance scorecard"),
            "pack-priority": first("PVP: Protecting Vulnerable People Lead:"),
        }
        OUT.mkdir(parents=True, exist_ok=True)
        for name, page in pages.items():
            stem = folder / name
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    str(args.dpi),
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(result.path),
                    str(stem),
                ],
                check=True,
            )
            shutil.copy(f"{stem}.png", OUT / f"{name}.png")
            print(f"{OUT / name}.png: page {page} of {len(texts)}")
        if args.keep:
            shutil.copy(result.path, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
