"""Every table, one module per domain. Importing this package registers them all."""

from models.base import Base
from models.campaigns import AICampaign, AIModel, CampaignPerformance
from models.flags import FeatureFlag
from models.merchants import Merchant
from models.ops import AuditLog, DashboardAnalytics, RuntimeSetting
from models.payments import PaymentMethod, Wallet, WalletTransaction
from models.people import AdminSession, AdminUser, Role, User
from models.support import SupportTicket, TicketMessage

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
