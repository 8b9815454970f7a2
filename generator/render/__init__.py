"""Phase 3, render: Jinja environments per brand; GuidePlan -> guide/email/plan-page
HTML, and the public site's pages. Never imports WeasyPrint.
"""
