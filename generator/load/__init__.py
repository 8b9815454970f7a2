"""Phase 1, load: guidegen.toml, content modules, brands and rosters -> validated objects
plus located problems. Reads files; knows nothing of plans, HTML or PDF.
"""
