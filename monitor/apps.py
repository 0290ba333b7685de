from django.apps import AppConfig


class MonitorConfig(AppConfig):
    name = "monitor"
    verbose_name = "Live monitor"

    def ready(self) -> None:
        from monitor.request_board import request_board
        from usage.meter_watch import watch_meters

        # The board learns of each metered request twice (start, finish), never per token.
        watch_meters(request_board)
