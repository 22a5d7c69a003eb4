from tests.sandbox.browser import browser_page, pytest_terminal_summary

__all__ = ["browser_page", "pytest_terminal_summary"]
