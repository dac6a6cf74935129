"""What every screen shares: labels, formatting, filters, actions, export, form errors."""
