"""The ledger: the only way money moves. See `ledger.postings` and `ledger.verify`."""
