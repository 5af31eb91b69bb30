"""Names every stage shares, defined once below the stages that use them."""

# The reader's symbol classifier: the larger crohme-m (validation symbols 93.85 % against crohme's 93.40 %; its
# readings are what the shipped symbol-context model was trained on; docs/decisions/symbol-classifiers.md).
DEFAULT_WEIGHTS = "crohme-m"

# the classifier that reads an image's crops in place of the reader's (``DEFAULT_WEIGHTS``), a weights name
# or file; None reads images with the strokes' classifier. Tried: crohme-m fine-tuned one epoch on symbols cut from
# WAP-like renderings of the training ink (``synth.image_crops``, configs/crohme-m-wap.yaml): image crops of the 2013 test
# 88.70 -> 89.18 % right, but the full WAP-like validation (benchmarks/wap_val.py) read 822 of 1,504 against 819
# (48 gained, 45 lost; within one token 67.89 against 68.35 %), so not kept (docs/decisions/image-reader.md)
IMAGE_CLASSIFIER: str | None = None
