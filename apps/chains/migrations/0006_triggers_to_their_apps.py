"""Actors, schedules and webhooks become apps of their own: their models leave this app's state only.

Their tables stay as they are (the new apps' models name them in `db_table`); each new app's 0001
takes the models over in state, and moves their content types (so permissions and admin log entries
follow).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('chains', '0005_run_idempotency_key_per_principal'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ActorState'),
                migrations.DeleteModel(name='Actor'),
                migrations.DeleteModel(name='ScheduleFire'),
                migrations.DeleteModel(name='Schedule'),
                migrations.DeleteModel(name='Webhook'),
            ],
            database_operations=[],
        ),
    ]
