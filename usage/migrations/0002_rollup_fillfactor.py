"""PostgreSQL only: leave room in each rollup page for updated row versions.

Every usage batch updates today's rollup cells. With free space on the page (fillfactor 70)
and no indexed column changed (only counters and names are), PostgreSQL makes those HOT
updates: the new version stays on the same page, no index is touched, and the dead version is
pruned without waiting for VACUUM — so the busiest rows do not bloat the table that every
report scans.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE usage_usagerollup SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE usage_usagerollup RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("usage", "0001_initial")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
