from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    verbose_name = "Inference upstreams"

    def ready(self) -> None:
        from inference import signals  # noqa: F401  (drops the registry's cached routes on change)
