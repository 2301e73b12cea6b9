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
# Byte-compiled at build time: PYTHONDONTWRITEBYTECODE keeps the run from writing .pyc files,
# so without this every start would compile the whole package again.
RUN python -m compileall -q /action/src

# No USER: container actions must run as root to use the mounted workspace, and the runner
# overrides WORKDIR with /github/workspace, hence the absolute path.
ENTRYPOINT ["python", "/action/entrypoint.py"]
