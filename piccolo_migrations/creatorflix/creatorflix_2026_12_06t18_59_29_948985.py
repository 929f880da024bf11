from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-12-06T18:59:29:948985"
VERSION = "1.38.0"
DESCRIPTION = "Drop the index on whitelabel_posts.whitelabel_model: the unique (whitelabel_model, folder_name) index serves every lookup by model"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="creatorflix", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="WhitelabelPost",
        tablename="whitelabel_posts",
        column_name="whitelabel_model",
        db_column_name="whitelabel_model",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
