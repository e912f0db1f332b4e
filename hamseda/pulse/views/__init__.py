"""The pulse pages: the public dashboard (public.py) and the organisers' pages (organize.py)."""
