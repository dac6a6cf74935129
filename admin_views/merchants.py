"""Screens for partner merchants."""

from __future__ import annotations

from admin_views.base import StaffView
from models.merchants import Merchant

MENU = "Merchants"


class MerchantAdmin(StaffView, model=Merchant):
    icon = "fa-solid fa-store"
    column_list = [
        Merchant.name,
        Merchant.category,
        Merchant.status,
        Merchant.cashback_rate,
        Merchant.contact_email,
        Merchant.created_at,
    ]
    column_searchable_list = [Merchant.name, Merchant.contact_email, Merchant.legal_name]
    column_sortable_list = [Merchant.name, Merchant.status, Merchant.created_at]
