"""The input layer: validation (one rule per kind of input), layouts, labels and weights."""

from .labels import class_weights, encode_classes
from .layout import BLOCK_BYTES, block_rows_for, iter_row_blocks, kernel_X
from .validation import (FLOAT_DTYPES, check_sample_weight, check_sparse_structure,
                         is_dask_collection, validate_X, validate_X_y)

__all__ = ["BLOCK_BYTES", "FLOAT_DTYPES", "block_rows_for", "check_sample_weight",
           "check_sparse_structure", "class_weights", "encode_classes", "is_dask_collection",
           "iter_row_blocks", "kernel_X", "validate_X", "validate_X_y"]
