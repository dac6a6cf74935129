"""Every table, one module per domain. Importing this package registers them all.

Each module in this folder is imported here, as `admin_views` finds its screens, so a new
`models/<domain>.py` reaches `Base.metadata` (and through it Alembic and the demo data)
with no list to edit. The names below are the seed's tables, importable as `models.X`.
"""

import importlib
import pkgutil

from models.base import Base
from models.campaigns import AICampaign, AIModel, CampaignPerformance
from models.flags import FeatureFlag
from models.merchants import Merchant
from models.ops import AuditLog, DashboardAnalytics, RuntimeSetting
from models.payments import PaymentMethod, Wallet, WalletTransaction
from models.people import AdminSession, AdminUser, Role, User
from models.support import SupportTicket, TicketMessage

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "AICampaign",
    "AIModel",
    "AdminSession",
    "AdminUser",
    "AuditLog",
    "Base",
    "CampaignPerformance",
    "DashboardAnalytics",
    "FeatureFlag",
    "Merchant",
    "PaymentMethod",
    "Role",
    "RuntimeSetting",
    "SupportTicket",
    "TicketMessage",
    "User",
    "Wallet",
    "WalletTransaction",
]
