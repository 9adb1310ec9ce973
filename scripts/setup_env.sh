# Sourced by serve.sh and test.sh: create .venv with Python 3.11 and install the project when its
# requirements changed. Idempotent, so both quick-start commands can run it every time.
set -euo pipefail

find_python311() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "error: Python 3.11 is required (torch 2.13.0 CPU builds exist for 3.11); set PYTHON=/path/to/python3.11" >&2
  return 1
}

VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment $VENV"
  "$(find_python311)" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
stamp="$VENV/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing the project and its dependencies (first run: about a minute)"
  # The constraints file pins torch and torchvision together so pip never pulls CUDA builds.
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[test]"
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi
export PATH="$(cd "$VENV" && pwd)/bin:$PATH"
