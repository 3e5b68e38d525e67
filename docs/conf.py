"""Sphinx configuration: API reference from the docstrings (numpydoc), the Markdown
pages (MyST), and the examples gallery, executed at build time (sphinx-gallery).

Build: python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
from pathlib import Path

# One torch thread per process: the gallery runs its examples two at a time.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# The benchmark files (the real-data example reads ETTh1): ../shared/data beside the
# checkout unless SKLATTN_DATA_HOME says otherwise. Nothing is downloaded.
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("SKLATTN_DATA_HOME", str(ROOT.parent / "shared" / "data"))

import sklattn  # noqa: E402

project = "sklattn"
author = "the sklattn developers"
copyright = "2026, the sklattn developers"
release = version = sklattn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "generated/*.examples", "sg_execution_times.rst"]

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]  # links to files outside docs/ (README, benchmarks)

autosummary_generate = True
# Members inherited from scikit-learn and NumPy are documented there, not here.
autodoc_default_options = {
    "members": True,
    "inherited-members": "BaseEstimator,RegressorMixin,TransformerMixin,BaseCrossValidator,"
                         "ndarray,object",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"quickstart\.py|transformer_attention\.py",
    "parallel": 2,
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklattn {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}


def _skip_sklearn_plumbing(app, what, name, obj, skip, options):
    """scikit-learn's metadata-routing and set_output methods: documented by it."""
    if name in ("get_metadata_routing", "set_output") or (
            name.startswith("set_") and name.endswith("_request")):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_plumbing)
