"""Actors take their models over from the chains app in state only: the tables (`chains_*`) stay
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
                    name='Actor',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(help_text='declared actors are <extension>.<name>', max_length=150, unique=True)),
                        ('description', models.TextField(blank=True)),
                        ('kind', models.CharField(choices=[('subscription', 'subscription: consume a queue or routing key'), ('every', 'every: fixed interval, skipping a tick while the last run is going'), ('poll', 'poll: interval, fires only when the result changed'), ('once', 'once: at startup, after a delay'), ('loop', 'loop: continuously, backing off when idle'), ('nothing', 'nothing: only invoked directly'), ('singleton', 'singleton: every, on exactly one node (leader lease)'), ('absorber', 'absorber: routes an input to the handler whose pattern matches')], max_length=20)),
                        ('payload', models.JSONField(blank=True, default=dict, help_text='input of each run (subscriptions: the message)')),
                        ('options', models.JSONField(blank=True, default=dict, help_text="the kind's options (see docs/jobs.md)")),
                        ('enabled', models.BooleanField(default=True)),
                        ('available', models.BooleanField(default=True, help_text='false once its extension no longer declares it')),
                        ('customized', models.BooleanField(default=False, help_text='edited here: syncing the extension leaves it be')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('chain', models.ForeignKey(blank=True, help_text='the chain to start (or a function)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='chains.chain')),
                        ('extension', models.ForeignKey(blank=True, help_text='the extension that declares it', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='actors', to='runners.extension')),
                        ('function', models.ForeignKey(blank=True, help_text='the function to run (or a chain)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='runners.function')),
                        ('run_as', models.ForeignKey(blank=True, help_text='principal its runs are authorized as (default: actors.principal)', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='rbac.principal')),
                    ],
                    options={
                        'db_table': 'chains_actor',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='ActorState',
                    fields=[
                        ('actor', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='state', serialize=False, to='actors.actor')),
                        ('last_fired_at', models.DateTimeField(blank=True, null=True)),
                        ('fired_count', models.PositiveBigIntegerField(default=0)),
                        ('skipped_count', models.PositiveBigIntegerField(default=0, help_text='ticks skipped while the last run went on')),
                        ('last_result', models.JSONField(blank=True, help_text='poll: the result changes are measured against', null=True)),
                        ('last_result_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.JSONField(blank=True, null=True)),
                        ('last_error_at', models.DateTimeField(blank=True, null=True)),
                        ('error_count', models.PositiveBigIntegerField(default=0)),
                        ('leader', models.CharField(blank=True, help_text='singleton: the lease holder', max_length=200)),
                        ('node', models.CharField(blank=True, help_text='the `legion actors` process that last ran it', max_length=200)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('last_run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='chains.taskrun')),
                    ],
                    options={
                        'db_table': 'chains_actorstate',
                    },
                ),
                migrations.AddConstraint(
                    model_name='actor',
                    constraint=models.CheckConstraint(condition=models.Q(('chain__isnull', False), ('function__isnull', False), _negated=True), name='actor_function_or_chain'),
                ),
            ],
            database_operations=[],
        ),
        content_types_move(models=['actor', 'actorstate'], old_label='chains', new_label='actors'),
    ]
