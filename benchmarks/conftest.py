# The benchmark is run by hand (python benchmarks/run.py), never collected as tests: it downloads
# wheels and takes minutes. The default `python -m pytest` only looks in tests/ (testpaths).
collect_ignore_glob = ["*.py"]
