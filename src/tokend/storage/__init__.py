"""Storage: the SQL schema, its migrations, and the repositories over it."""
