# The GitHub Action's image (action.yml: runs.image). Hermetic: every Python dependency comes
# from requirements/*.txt, pinned with the sha256 of its CPython 3.12 wheel for linux x86_64
# and aarch64 (tools/lock_requirements.py writes them), installed as wheels only, so no
# build backend (setuptools) is fetched and nothing is compiled. The project itself is not
# pip-installed: its source is on PYTHONPATH, byte-compiled once here.
FROM python:3.12.15-slim-trixie

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/action/src \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Dependencies first (their own layer, reused while only the source changes). actions-toolkit
# without its declared dependencies: only its core module is used, and PyGithub (with
# cryptography, PyNaCl, PyJWT) would only add size and attack surface.
COPY requirements/action.txt requirements/actions-toolkit.txt /action/requirements/
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: \
        -r /action/requirements/action.txt \
 && pip install --no-cache-dir --require-hashes --only-binary=:all: --no-deps \
        -r /action/requirements/actions-toolkit.txt

COPY LICENSE entrypoint.py /action/
COPY src/lambda_glibc_gate/ /action/src/lambda_glibc_gate/
# Byte-compiled here, once. The python base images delete every .pyc (docker-library/python's
# Dockerfile), and PYTHONDONTWRITEBYTECODE keeps a run from writing any, so each start would
# otherwise compile every module it imports, the standard library's included. Importing every
# module of the package once writes the .pyc files of what a run imports (the action's import:
# 2.4 s -> 0.6 s here; README "How fast it starts"), without compiling the whole stdlib.
RUN python -m compileall -q /action/src \
 && PYTHONDONTWRITEBYTECODE='' python -c "import importlib, pkgutil, lambda_glibc_gate as p; \
[importlib.import_module(m.name) for m in pkgutil.walk_packages(p.__path__, 'lambda_glibc_gate.') \
 if not m.name.endswith('__main__')]"

# No USER: container actions must run as root to use the mounted workspace, and the runner
# overrides WORKDIR with /github/workspace, hence the absolute path.
ENTRYPOINT ["python", "/action/entrypoint.py"]
