from tests.page_browser import page_server

__all__ = ["page_server"]
