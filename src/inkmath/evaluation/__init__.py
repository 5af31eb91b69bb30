"""Evaluation: metrics from logits (numpy only), reports and plots built from files."""
