"""PostgreSQL backend that creates test databases with a UTF-8 character type.

pg_trgm extracts trigrams only from characters the database's LC_CTYPE calls
letters; under the ``C`` ctype every Cyrillic letter is ignored and a search
for a misspelt "парацетамол" finds nothing. Production databases are created
by the operator (see README); the test database is created here, so it gets
``LC_CTYPE 'C.UTF-8'`` explicitly whatever the server's default is.
"""
