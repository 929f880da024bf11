from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T15:57:09:337535"
VERSION = "1.38.0"
DESCRIPTION = "public_tallies: how the number of public models changed, kept by triggers"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="creatorflix", description=DESCRIPTION
    )

    manager.add_table(
        class_name="PublicTally",
        tablename="public_tallies",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="PublicTally",
        tablename="public_tallies",
        column_name="models",
        db_column_name="models",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
