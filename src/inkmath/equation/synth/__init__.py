"""Generated data and truth for recipes and benchmarks: pages, layouts, the reader's own hypotheses, crops."""
