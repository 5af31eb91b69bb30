"""Online ink -> symbol hypotheses: stroke grouping and strokes a writer came back to."""
