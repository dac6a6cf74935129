"""The SQL behind statistics and charts: one async function per question, no HTTP."""
