"""Install pgvector on PostgreSQL so the knowledge store and `legion doctor` find it; no-op on SQLite."""

from django.db import migrations


def vector_extension_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS vector")


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(vector_extension_create, migrations.RunPython.noop)]
