import os

# Lets scikit-learn's check_array_api_input run (with NumPy inputs) instead of skipping.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
