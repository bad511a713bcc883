"""Store-and-forward sync to the central receiver (docs/sync-protocol.md).

``protocol`` holds the facts both sides share (manifest, identifiers,
digests, classification, backoff); ``outbox`` the kiosk's batch bookkeeping
in SQLite (no network); ``client`` the HTTP calls (httpx); ``runner`` the
loop behind ``kiosk sync``, reconciliation and purge.
"""
