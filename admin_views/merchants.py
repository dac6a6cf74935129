"""Screens for partner merchants: never removed, deactivated (with a reason) instead."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from wtforms import TextAreaField, validators

from admin_views.base import StaffView
from admin_views.shared.actions import ActionContext, row_action
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, YesNoFilter
from admin_views.shared.related import Related
from admin_views.shared.search import Exact
from admin_views.shared.staff_form import StaffForm
from models.base import utcnow
from models.merchants import Merchant, MerchantStatus
from models.payments import WalletTransaction

MENU = "Merchants"
APPROVABLE = frozenset({MerchantStatus.PENDING, MerchantStatus.SUSPENDED, MerchantStatus.REJECTED})
"""Approving a suspended or rejected merchant reinstates it."""


class RejectionForm(StaffForm):
    reason = TextAreaField(
        "Reason",
        validators=[validators.InputRequired(), validators.Length(min=5, max=1000)],
        description="Sent to the merchant; say what they can do about it.",
    )


class MerchantAdmin(StaffView, model=Merchant):
    default_access = {
        "admin": ("*",),
        "operations": ("*",),
        "analyst": ("view", "export"),
        "viewer": ("view",),
    }
    icon = "fa-solid fa-store"
    column_list = [
        Merchant.name,
        Merchant.category,
        Merchant.status,
        Merchant.cashback_rate,
        Merchant.contact_email,
        Merchant.deactivated_at,
        Merchant.created_at,
    ]
    column_searchable_list = [
        Merchant.name,
        Merchant.contact_email,
        Merchant.legal_name,
        Merchant.phone,
    ]
    search_exact = {Exact.EMAIL: [Merchant.contact_email], Exact.UUID: [Merchant.id]}
    column_sortable_list = [Merchant.name, Merchant.cashback_rate, Merchant.created_at]
    column_filters = [
        ChoiceFilter(Merchant.status),
        ChoiceFilter(Merchant.category),
        YesNoFilter(
            Merchant.deactivated_at.is_not(None), "Deactivated", parameter_name="deactivated"
        ),
        DateRangeFilter(Merchant.created_at, "Joined"),
        DateRangeFilter(Merchant.approved_at),
    ]
    form_columns = [
        Merchant.name,
        Merchant.legal_name,
        Merchant.contact_email,
        Merchant.phone,
        Merchant.website,
        Merchant.category,
        Merchant.cashback_rate,
        Merchant.tags,
        Merchant.address,
    ]
    lowercase_fields = ("contact_email",)
    related = [
        Related(
            "Recent transactions",
            WalletTransaction.merchant_id,
            (
                WalletTransaction.reference,
                WalletTransaction.type,
                WalletTransaction.status,
                WalletTransaction.amount,
                WalletTransaction.created_at,
            ),
        ),
    ]

    @row_action(
        "approve",
        "Approve",
        confirm="Approve {record}? They can take payments at once.",
        when=lambda merchant: merchant.status in APPROVABLE and merchant.deactivated_at is None,
    )
    async def approve(self, _db: AsyncSession, merchant: Merchant, _context: ActionContext) -> None:
        merchant.status = MerchantStatus.ACTIVE
        merchant.approved_at = utcnow()
        merchant.rejection_reason = None

    @row_action(
        "reject",
        "Reject",
        form=RejectionForm,
        when=lambda merchant: merchant.status == MerchantStatus.PENDING,
    )
    async def reject(self, _db: AsyncSession, merchant: Merchant, context: ActionContext) -> None:
        merchant.status = MerchantStatus.REJECTED
        merchant.rejection_reason = context.params["reason"].strip()

    @row_action(
        "suspend",
        "Suspend",
        confirm="Suspend {record}? Their payments stop at once.",
        when=lambda merchant: merchant.status == MerchantStatus.ACTIVE,
        reason=True,
    )
    async def suspend(self, _db: AsyncSession, merchant: Merchant, _context: ActionContext) -> None:
        merchant.status = MerchantStatus.SUSPENDED

    @row_action(
        "deactivate",
        "Deactivate",
        when=lambda merchant: merchant.deactivated_at is None,
        reason=True,
    )
    async def deactivate(
        self, _db: AsyncSession, merchant: Merchant, _context: ActionContext
    ) -> None:
        merchant.deactivate(utcnow())

    @row_action(
        "reactivate", "Reactivate", when=lambda merchant: merchant.deactivated_at is not None
    )
    async def reactivate(
        self, _db: AsyncSession, merchant: Merchant, _context: ActionContext
    ) -> None:
        merchant.deactivated_at = None
