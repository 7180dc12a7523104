"""A database-level guard: no UPDATE or DELETE of a receipt, whatever the code does.

On SQLite (the zero-setup default) only UPDATE is refused: Django empties SQLite tables
with DELETE between transactional tests, while PostgreSQL uses TRUNCATE, which row
triggers do not see."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION trust_receipt_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'receipts are immutable: issue an amending receipt instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER trust_receipt_no_update BEFORE UPDATE OR DELETE ON trust_receipt
    FOR EACH ROW EXECUTE FUNCTION trust_receipt_immutable();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER trust_receipt_no_update ON trust_receipt;
DROP FUNCTION trust_receipt_immutable();
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER trust_receipt_no_{op} BEFORE {op.upper()} ON trust_receipt
    BEGIN SELECT RAISE(ABORT, 'receipts are immutable: issue an amending receipt instead'); END;"""
    for op in ("update",)
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER trust_receipt_no_update")


class Migration(migrations.Migration):
    dependencies = [("trust", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
