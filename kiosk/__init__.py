"""Shooting-room kiosk: photographs graduating students for the degree-certificate registry."""
