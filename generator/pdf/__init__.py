"""HTML -> PDF with WeasyPrint: the locked URL fetcher, reuse of repeated parts and paint
replay. The only package that touches WeasyPrint or pydyf internals (see internals.py).
"""
