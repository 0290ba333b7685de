from django.contrib import admin

from inference.models import Upstream


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: the runtime class takes no subscript
    list_display = ("model_name", "inference_url", "is_enabled", "created_at")
    list_filter = ("is_enabled",)
    search_fields = ("model_name",)
