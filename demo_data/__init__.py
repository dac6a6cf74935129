"""Demo data: realistic, consistent rows for every table, and the loader that writes them."""

DEMO_ADMIN_EMAIL = "admin@example.com"
"""The superadmin `swipesavvy-admin demo` (re)creates, with a fresh password each start."""
