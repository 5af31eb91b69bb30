"""Names every stage shares, defined once below the stages that use them."""

# The reader's symbol classifier: the larger crohme-m (validation symbols 93.85 % against crohme's 93.40 %; its
# readings are what the shipped symbol-context model was trained on; docs/decisions/symbol-classifiers.md).
DEFAULT_WEIGHTS = "crohme-m"
