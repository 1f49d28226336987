"""Install the built-in policies (admin, operator, worker, observer); later changes arrive via post_migrate."""

from django.db import migrations

from apps.rbac.builtin import BUILTIN_NAMES, builtin_policies_write


def builtin_policies_create(apps, schema_editor):
    builtin_policies_write(apps.get_model("rbac", "Policy"))


def builtin_policies_remove(apps, schema_editor):
    apps.get_model("rbac", "Policy").objects.filter(name__in=BUILTIN_NAMES, builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("rbac", "0001_initial")]
    operations = [migrations.RunPython(builtin_policies_create, builtin_policies_remove)]
