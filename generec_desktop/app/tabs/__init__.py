"""Feature tabs of the main window, one module each (see MainWindow docstring for the protocol)."""
