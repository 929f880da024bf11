"""Admins: their accounts and sign-in checks, the audit log and the sign-in throttle."""
