"""Error answers made before or around the app: no template, no database, no request body.

Middleware that refuses a request (too large, database away) answers in the shape the
caller reads: the API's `{"error", "message"}` under /api, OFREP's `{"errorCode",
"errorDetails"}` under /ofrep, a short HTML page for people everywhere else, with a way on:
the same address again (a form's address opens the form) and the admin's home.
"""

from __future__ import annotations

import html

from starlette.responses import HTMLResponse, JSONResponse, Response

API_PREFIX = "/api/"
OFREP_PREFIX = "/ofrep/"
HOME = "/admin/"
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto;">
<h1 style="font-size: 1.4rem;">{title}</h1>
<p>{message}</p>
<p><a href="{again}">Try again</a> &middot; <a href="{home}">Back to the dashboard</a></p>
</body>
</html>
"""


def wants_json(path: str) -> bool:
    return path.startswith((API_PREFIX, OFREP_PREFIX))


def error_response(
    path: str,
    status: int,
    code: str,
    title: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """`message` for whoever asked `path`: JSON for programs, a page for people."""
    if path.startswith(OFREP_PREFIX):
        # OFREP's codes name evaluation failures; anything else is GENERAL.
        body = {"errorCode": "GENERAL", "errorDetails": message}
        return JSONResponse(body, status_code=status, headers=headers)
    if path.startswith(API_PREFIX):
        body = {"error": code, "message": message}
        return JSONResponse(body, status_code=status, headers=headers)
    page = PAGE.format(
        title=html.escape(title),
        message=html.escape(message),
        again=html.escape(path),
        home=HOME,
    )
    return HTMLResponse(page, status_code=status, headers=headers)
