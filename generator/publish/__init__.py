"""Phase 4, publish: the output layout, guide files in every format (PDF, HTML, ICS),
the manifest, plan-page tokens, the worker pool and shards, the site on disk, pruning.
"""
