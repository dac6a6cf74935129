"""Demo data: realistic, consistent rows for every table, and the loader that writes them."""
