"""Background work the server does on its own, safe with several workers running."""
