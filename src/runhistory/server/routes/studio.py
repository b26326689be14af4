"""The studio: the single-page app built from ``frontend/`` into ``runhistory/server/static``.

``/`` serves its ``index.html`` and ``/assets/…`` its hashed bundles. When the studio was not
built (a source checkout without ``make studio``), ``/`` answers with a page that says how to
build it; the REST API works either way.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>runhistory studio not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto">
<h1>The runhistory studio is not built</h1>
<p>This server has no studio files in <code>{folder}</code>.
Build them from a source checkout with <code>make studio</code> (needs Node.js and npm).
A wheel made with <code>python -m build</code> includes them, unless it was built with
<code>RUNHISTORY_SKIP_STUDIO=1</code>.</p>
<p>The REST API works without the studio: see <a href="api/v1/docs">api/v1/docs</a>.</p>
</body></html>
"""


def mount_studio(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    """Serve the built studio at ``/`` (and its bundles at ``/assets``) on ``app``."""
    index = static_dir / "index.html"
    assets = static_dir / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="studio-assets")

    async def studio() -> Response:
        """The studio's single page (hash routing: every view lives under ``/``)."""
        if not index.is_file():
            return HTMLResponse(NOT_BUILT.format(folder=static_dir), status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_api_route("/", studio, methods=["GET"], include_in_schema=False)
    app.add_api_route("/index.html", studio, methods=["GET"], include_in_schema=False)
