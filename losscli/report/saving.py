"""A picture saved as a file, its format told by the extension: the JSON of its numbers, a
drawing (.png, .svg, .pdf) or a page (.html); written to a temporary file and renamed."""

from __future__ import annotations

import json
from typing import Any

from losscli.errors import option
from losscli.report.pictures import PICTURE_SUFFIXES, figure_bytes


def save_picture(picture: Any, path: Any) -> None:
    """``picture`` written to ``path`` by its extension, atomically."""
    from losscli.io.outputs import check_output, replace_atomically

    target = check_output(path, PICTURE_SUFFIXES, option("output"))
    suffix = target.suffix.lower()
    if suffix == ".json":
        data = (json.dumps(picture.to_dict(), indent=2, allow_nan=False) + "\n").encode()
    elif suffix == ".html":
        from losscli.report.page import picture_page  # matplotlib, only for a page

        data = picture_page(picture).encode()
    else:
        data = figure_bytes(picture.to_dict(), suffix[1:])
    replace_atomically(target, [data], option("output"))
