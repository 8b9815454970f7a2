"""Phase 5, deliver: emails built from the published guides, the send log, SMTP.
"""
