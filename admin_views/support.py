"""Screens for customer support: tickets and their messages."""

from __future__ import annotations

from admin_views.base import StaffView
from models.support import SupportTicket, TicketMessage

MENU = "Support"


class SupportTicketAdmin(StaffView, model=SupportTicket):
    name = "Ticket"
    icon = "fa-solid fa-life-ring"
    column_list = [
        SupportTicket.reference,
        SupportTicket.subject,
        SupportTicket.status,
        SupportTicket.priority,
        SupportTicket.category,
        SupportTicket.assignee,
        SupportTicket.created_at,
    ]
    column_searchable_list = [SupportTicket.reference, SupportTicket.subject]
    column_sortable_list = [SupportTicket.status, SupportTicket.priority, SupportTicket.created_at]


class TicketMessageAdmin(StaffView, model=TicketMessage):
    name = "Ticket message"
    icon = "fa-solid fa-comments"
    column_list = [
        TicketMessage.ticket,
        TicketMessage.author_type,
        TicketMessage.is_internal,
        TicketMessage.body,
        TicketMessage.created_at,
    ]
    column_searchable_list = [TicketMessage.body]
