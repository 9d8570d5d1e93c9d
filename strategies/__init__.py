"""Hypothesis strategies derived from the specs (filled in by the strategies work)."""
