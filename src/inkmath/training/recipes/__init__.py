"""One recipe per shipped weights file: the command in each model card runs one of these modules."""
