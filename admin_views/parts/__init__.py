"""The jobs of a table's screens, one module each; `StaffView` (admin_views/base.py) is
all of them together.

- `declared`: labels, formatters, validators, lookups and filters from the column types;
- `columns`: which columns each screen shows, secrets masked wherever a value shows;
- `listing`: the list's query (filters, search, sort) and its paging;
- `audited`: the audit entry every change and export writes;
- `writes`: create, edit and delete, each committed with its audit entry;
- `exporting`: the list's rows streamed as CSV or JSON;
- `record_page`: a record's page: its query, title badge, sections and related panels;
- `row_actions`: state-aware actions on rows, from their page to their audited change.

Each part is a `ModelView` that can be declared on a model and tried alone; what it needs
from SQLAdmin beyond the public API comes through `admin_views.sqladmin_door`.
"""
