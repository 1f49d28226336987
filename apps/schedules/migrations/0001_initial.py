"""Schedules take their models over from the chains app in state only: the tables (`chains_*`) stay
where they are, with their rows; their content types move to this app."""

import django.db.models.deletion
from django.db import migrations, models

from apps.core.content_types import content_types_move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('chains', '0006_triggers_to_their_apps'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
        ('rbac', '0002_builtin_policies'),
        ('runners', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Schedule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=150, unique=True)),
                        ('description', models.TextField(blank=True)),
                        ('payload', models.JSONField(blank=True, default=dict)),
                        ('catch_up', models.CharField(choices=[('skip', 'skip missed fires'), ('once', 'run once for all missed fires'), ('all', 'run every missed fire')], default='once', help_text='what happens to fires missed while beat or the broker was down', max_length=10)),
                        ('enabled', models.BooleanField(default=True)),
                        ('anchor_at', models.DateTimeField(help_text='interval ticks are counted from this instant')),
                        ('last_tick_at', models.DateTimeField(blank=True, help_text='the newest tick beat has dealt with (fired or skipped)', null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('chain', models.ForeignKey(blank=True, help_text='the chain to start (or a function)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='chains.chain')),
                        ('function', models.ForeignKey(blank=True, help_text='the function to run (or a chain)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='runners.function')),
                        ('periodic_task', models.OneToOneField(help_text='the beat entry holding the cron expression or interval', on_delete=django.db.models.deletion.PROTECT, related_name='legion_schedule', to='django_celery_beat.periodictask')),
                        ('run_as', models.ForeignKey(blank=True, help_text='the principal the runs are authorized as', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='rbac.principal')),
                    ],
                    options={
                        'db_table': 'chains_schedule',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='ScheduleFire',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('tick', models.DateTimeField(help_text='the instant the schedule was due')),
                        ('until', models.DateTimeField(blank=True, help_text='last tick of a skipped span', null=True)),
                        ('count', models.PositiveIntegerField(default=1)),
                        ('status', models.CharField(choices=[('dispatched', 'sent by beat, waiting for a worker'), ('started', 'run created'), ('skipped', 'skipped by the catch-up policy'), ('failed', 'could not start (see error)')], default='dispatched', max_length=12)),
                        ('reason', models.CharField(blank=True, max_length=300)),
                        ('error', models.JSONField(blank=True, null=True)),
                        ('dispatched_by', models.CharField(blank=True, help_text='the beat (lease holder) that sent it', max_length=200)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='chains.taskrun')),
                        ('schedule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='fires', to='schedules.schedule')),
                    ],
                    options={
                        'db_table': 'chains_schedulefire',
                        'ordering': ['-tick'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='schedule',
                    constraint=models.CheckConstraint(condition=models.Q(('function__isnull', True), ('chain__isnull', True), _connector='XOR'), name='schedule_function_xor_chain'),
                ),
                migrations.AddIndex(
                    model_name='schedulefire',
                    index=models.Index(fields=['status', 'created_at'], name='chains_sche_status_be4b81_idx'),
                ),
                migrations.AddConstraint(
                    model_name='schedulefire',
                    constraint=models.UniqueConstraint(fields=('schedule', 'tick'), name='schedule_fire_once_per_tick'),
                ),
            ],
            database_operations=[],
        ),
        content_types_move(models=['schedule', 'schedulefire'], old_label='chains', new_label='schedules'),
    ]
