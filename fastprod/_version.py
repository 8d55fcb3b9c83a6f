# The single source of fastprod's version: setup.py and fastprod.__version__ read it.
__version__ = "0.1.0.dev0"
