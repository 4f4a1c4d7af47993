"""Synthetic data for the demo and the tests: generated here, shipped as files, loaded like any partner file.

* :mod:`.synthetic`: every generator (the samples placed at Gwent towns, the demo placed in Gwent LSOAs);
* :mod:`.draws` and :mod:`.places`: the random draws and the places (invented names, the real LSOA frame);
* :mod:`.files`: the shipped files' paths, regeneration (``python -m diogel.demo.files``) and
  :func:`.files.load_demo_partner_data`, which ``diogel demo`` calls.
"""
