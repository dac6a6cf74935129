"""The demo's staff account: `swipesavvy-admin demo` (re)creates it, the API names it."""

DEMO_ADMIN_EMAIL = "admin@example.com"
"""The superadmin `swipesavvy-admin demo` (re)creates, with a fresh password each start."""
