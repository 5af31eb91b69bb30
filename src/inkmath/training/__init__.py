"""Training: a typed config, batched augmentation on tensors, full atomic checkpoints, exact resume."""
