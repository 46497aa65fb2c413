import sys
from pathlib import Path

# The scripts are run as files (python models/documents/annotate.py); tests import them the same way.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
