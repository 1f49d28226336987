"""Admin forms that know who saves them, so their `clean` runs the same access checks as the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from apps.chains.services.callers import Caller
from apps.rbac.authentication import request_principal


class CallerForm(forms.ModelForm):
    """A model form whose `by` is the principal of the admin user saving it (bound per request)."""

    by: Caller = None


def form_for(request: HttpRequest, form: type[CallerForm]) -> type[CallerForm]:
    # A subclass per request: the class attribute never carries one user's principal into another's request.
    return type(form.__name__, (form,), {"by": request_principal(request)})


class CallerAdminMixin:
    """For a ModelAdmin whose `form` is a `CallerForm`."""

    form: type[CallerForm]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = form_for(request, self.form)
        return super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]


class CallerInlineMixin:
    """For an InlineModelAdmin whose `form` is a `CallerForm`."""

    form: type[CallerForm]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = form_for(request, self.form)
        return super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
