"""Webhooks take their models over from the chains app in state only: the tables (`chains_*`) stay
where they are, with their rows; their content types move to this app."""

import django.db.models.deletion
from django.db import migrations, models

from apps.core.content_types import content_types_move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('chains', '0006_triggers_to_their_apps'),
        ('rbac', '0002_builtin_policies'),
        ('runners', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Webhook',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.SlugField(help_text='the endpoint is /api/v1/chains/hooks/<name>/', max_length=100, unique=True)),
                        ('description', models.TextField(blank=True)),
                        ('transformation', models.TextField(blank=True, help_text='CEL over body, headers and query building the payload (empty: the body)')),
                        ('secret_encrypted', models.TextField(editable=False)),
                        ('replay_window_seconds', models.PositiveIntegerField(blank=True, help_text='accepted clock difference of a signed request (default: setting)', null=True)),
                        ('enabled', models.BooleanField(default=True)),
                        ('received_count', models.PositiveBigIntegerField(default=0, editable=False)),
                        ('last_received_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('chain', models.ForeignKey(blank=True, help_text='the chain to start (or a function)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='chains.chain')),
                        ('function', models.ForeignKey(blank=True, help_text='the function to run (or a chain)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='runners.function')),
                        ('run_as', models.ForeignKey(blank=True, help_text='the principal the runs are authorized as', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='rbac.principal')),
                    ],
                    options={
                        'db_table': 'chains_webhook',
                        'ordering': ['name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('function__isnull', True), ('chain__isnull', True), _connector='XOR'), name='webhook_function_xor_chain')],
                    },
                ),
            ],
            database_operations=[],
        ),
        content_types_move(models=['webhook'], old_label='chains', new_label='webhooks'),
    ]
