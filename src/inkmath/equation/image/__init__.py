"""An ink image -> symbol hypotheses: its parts, splits of touching symbols, grouping and alternatives."""
