# The GitHub Action's image (action.yml: runs.image). GitHub rebuilds it on every job that uses
# the action, so it stays small: the slim base, four pinned dependencies, no build tools.
FROM python:3.12.15-slim-trixie

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

COPY pyproject.toml README.md /action/
COPY src/ /action/src/
COPY entrypoint.py /action/entrypoint.py

# The runtime dependencies pinned, then actions-toolkit without its declared dependencies: only
# its core module is used, and PyGithub (with cryptography, PyNaCl, PyJWT) would only add size
# and attack surface. The package itself last, without dependency resolution (all present).
RUN pip install --no-cache-dir pyelftools==0.33 PyYAML==6.0.3 requests==2.34.2 zlib-ng==1.1.0 \
 && pip install --no-cache-dir --no-deps actions-toolkit==0.1.15 \
 && pip install --no-cache-dir --no-deps /action \
 && rm -rf /action/src /action/build /action/pyproject.toml /action/README.md

# No USER: container actions must run as root to use the mounted workspace, and the runner
# overrides WORKDIR with /github/workspace, hence the absolute path.
ENTRYPOINT ["python", "/action/entrypoint.py"]
