"""Admins are managed in the UI by superusers: if no active admin is one, the first becomes one."""

from domain.platform.migrations import ddl_forwards

ID = "2026-11-26T18:00:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "first active admin becomes a superuser when there is none"

STATEMENTS = [
    "UPDATE piccolo_user SET superuser = true WHERE id = "
    "(SELECT min(id) FROM piccolo_user WHERE admin AND active) AND NOT EXISTS "
    "(SELECT 1 FROM piccolo_user WHERE admin AND active AND superuser)",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
