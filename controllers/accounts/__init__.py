"""Accounts: signing in and out, sessions, who may ask, admins, the audit log."""
