from django.db.backends.postgresql.creation import DatabaseCreation as PostgresCreation

UTF8_CTYPE = "C.UTF-8"


class DatabaseCreation(PostgresCreation):
    def sql_table_creation_suffix(self) -> str:
        suffix = super().sql_table_creation_suffix()
        return f"{suffix} LC_CTYPE '{UTF8_CTYPE}' LC_COLLATE '{UTF8_CTYPE}'"
