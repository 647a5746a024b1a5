"""Notifications: mail and a webhook for the events the rules name (Log Center's events)."""
