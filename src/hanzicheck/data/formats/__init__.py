"""Labelled-data file formats: CASIA-HWDB ``.gnt`` and CASIA-OLHWDB ``.pot``, EMNIST, ``.npz`` and image folders
(``folder``), what their readers share (``members``), and the registry of format → reader (``registry``)."""
