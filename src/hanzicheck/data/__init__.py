"""Data layer: the class list, file-format readers, the handwriting synthesiser, preprocessing, datasets."""
