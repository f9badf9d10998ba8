"""hanzicheck: recognise and check handwritten Chinese characters (HSK1), offline."""

__version__ = "0.1.0"
