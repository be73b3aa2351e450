"""Handoff service: customer channels, bot/agent routing, live-agent queue and consoles."""
