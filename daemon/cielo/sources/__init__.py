"""Sources: one module or folder each, owning its config model, series, history, budget, error bodies and
parsing (base.py is the shape they share; registry.py lists them)."""
