"""The App keys page: the keys mobile apps send to read flags, made and revoked on screen.

The same rules as `swipesavvy-admin flags create-key/revoke-key` (flags/client_keys.py); a
key reads one environment's flags, production unless another is picked. A new key is shown
once, in the answer to the form that made it: never in a Flash message (those live in the
session row), the audit trail or a log.
"""

from __future__ import annotations

from typing import Any

from sqladmin import expose
from sqladmin.flash import Flash
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wtforms import SelectField, StringField, ValidationError, validators
from wtforms.fields import Field
from wtforms.form import Form

from admin_views import sqladmin_door as door
from admin_views.base import StaffPage
from admin_views.shared.staff_form import StaffForm
from auth.middleware import actor
from core.database import Database
from flags.client_keys import (
    BadKeyNameError,
    UnknownEnvironmentError,
    check_name,
    create_key,
    doors_line,
    environments,
    list_keys,
    revoke_key,
)
from flags.key_uses import FLUSH_EVERY_S
from flags.store import FlagStore
from models.flags import PRODUCTION

TITLE = "App keys"


def _sentence(problem: Exception) -> str:
    text = str(problem)
    return text[:1].upper() + text[1:]


def _every(seconds: float) -> str:
    minutes = round(seconds / 60)
    return "a minute" if minutes == 1 else f"every {minutes} minutes"


def _valid_name(_form: Form, field: Field) -> None:
    try:
        check_name(field.data or "")
    except BadKeyNameError as bad:
        raise ValidationError(_sentence(bad)) from None


class KeyNameForm(StaffForm):
    """A key's name and the environment whose flags it reads (choices set per request)."""

    name = StringField(
        "Name",
        validators=[validators.InputRequired("Name the key, e.g. ios-production."), _valid_name],
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
        description="Who the key is for, e.g. ios-production: letters, digits, dots, dashes "
        "or underscores.",
        render_kw={"autocomplete": "off", "maxlength": 64, "spellcheck": "false"},
    )
    environment = SelectField(
        "Flags of",
        default=PRODUCTION,
        description="Whose flags the key reads: the feed and OFREP answer it with that "
        "environment's states.",
    )


class AppKeysPage(StaffPage):
    name = TITLE
    icon = "fa-solid fa-key"
    category = "Feature flags"
    resource = "app_keys"
    verbs = ("view", "edit")
    """`edit` makes and revokes keys."""
    default_access = {"admin": ("*",)}

    @expose("/app-keys", identity="app-keys")
    async def keys(self, request: Request) -> Response:
        return await self._keys_page(request, await self._form(request))

    @expose("/app-keys/new", methods=["POST"], identity="app-keys-create")
    async def create(self, request: Request) -> Response:
        self._may_change(request)
        form = await self._form(request, await request.form())
        if form.validate():
            name, environment = form.name.data, form.environment.data
            try:
                async with self._database(request).session() as db, db.begin():
                    key = await create_key(db, name, actor(request), environment)
            except BadKeyNameError as taken:
                form.name.errors = [*form.name.errors, _sentence(taken)]
            except UnknownEnvironmentError as gone:
                form.environment.errors = [*form.environment.errors, _sentence(gone)]
            else:
                await self._store().refresh()
                named = dict(form.environment.choices)[environment]
                return await self._created(request, name, named, key)
        return await self._keys_page(request, form, status_code=400)

    async def _form(self, request: Request, formdata: Any = None) -> KeyNameForm:
        form = KeyNameForm(formdata)
        async with self._database(request).session() as db:
            form.environment.choices = await environments(db)
        return form

    @expose("/app-keys/revoke", methods=["GET", "POST"], identity="app-keys-revoke")
    async def revoke(self, request: Request) -> Response:
        """GET asks to confirm; only the POST revokes."""
        self._may_change(request)
        if request.method == "GET":
            return await self.templates.TemplateResponse(
                request,
                "staff/app_key_revoke.html",
                {"title": "Revoke an app key", "key_name": request.query_params.get("name", "")},
            )
        name = str((await request.form()).get("name") or "")
        try:
            async with self._database(request).session() as db, db.begin():
                await revoke_key(db, name, actor(request))
        except ValueError as missing:
            Flash.error(request, _sentence(missing), title=TITLE)
        else:
            await self._store().refresh()
            Flash.success(
                request, f"Key “{name}” revoked: apps sending it are refused.", title=TITLE
            )
        return RedirectResponse(request.url_for("admin:view-app-keys"), status_code=303)

    async def _keys_page(
        self, request: Request, form: KeyNameForm, *, status_code: int = 200
    ) -> Response:
        async with self._database(request).session() as db:
            keys = await list_keys(db)
            names = dict(await environments(db))
        context: dict[str, Any] = {
            "title": TITLE,
            "keys": list(reversed(keys)),
            "environment_names": names,
            "form": form,
            "may_change": self.has_permission(request, "edit"),
            "doors": doors_line(request.app.state.settings, self._store().snapshot)[1],
            "flush_every": _every(FLUSH_EVERY_S),
        }
        return await self.templates.TemplateResponse(
            request, "staff/app_keys.html", context, status_code=status_code
        )

    async def _created(self, request: Request, name: str, environment: str, key: str) -> Response:
        response = await self.templates.TemplateResponse(
            request,
            "staff/app_key_created.html",
            {"title": TITLE, "key_name": name, "environment": environment, "key": key},
        )
        response.headers["cache-control"] = "no-store"
        return response

    def _may_change(self, request: Request) -> None:
        if not self.has_permission(request, "edit"):
            raise HTTPException(403)

    @staticmethod
    def _database(request: Request) -> Database:
        return request.app.state.database

    def _store(self) -> FlagStore:
        return door.admin_of(self).app.state.flags
