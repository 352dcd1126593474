"""What an operator reads about connections: status, history, ledger, quarantine.

The command line and the web page both call these functions; neither computes a figure of
its own.
"""
