"""The reference central receiver for kiosk sync."""
