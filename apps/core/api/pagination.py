"""Page-number pagination with a client-chosen page size, capped by `api.max_page_size`."""

from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.CONFIG["api.max_page_size"]
