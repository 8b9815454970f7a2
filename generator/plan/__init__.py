"""Phase 2, plan: an athlete + their modules + the brand's calendar -> one GuidePlan
(dated timeline, facts, warnings located at the roster given). Pure: no I/O.
"""
