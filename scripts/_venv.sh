# Shared by scripts/run and scripts/test: make .venv and install the locked dependencies when the lock changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.lock-installed
UV_VERSION=0.13.10
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  echo "==> installing locked dependencies (requirements.lock)"
  # uv (pinned) installs the lock in seconds where pip takes about two minutes; pip is the fallback
  # when uv cannot be had or fails.
  if .venv/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" 2>/dev/null \
    && .venv/bin/uv pip install --quiet --python .venv/bin/python -r requirements.lock; then
    :
  else
    echo "==> uv unavailable or failed: installing with pip"
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
  fi
  cp requirements.lock "$stamp"
fi
