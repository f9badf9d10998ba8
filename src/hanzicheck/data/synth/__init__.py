"""The handwriting synthesiser: ``synthesizer`` (``Synthesizer``, ``synth_batch``), its knobs (``config``), the hand
that deforms, joins and draws strokes (``render``), stroke geometry (``shapes``), Latin glyphs and scribbles
(``latin``) and the npm handwriting fonts (``fonts``)."""
