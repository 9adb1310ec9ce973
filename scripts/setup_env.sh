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

# On Linux, PyPI's torch is a CUDA build (several GB of nvidia-* packages). Print the pip option adding PyTorch's
# CPU wheel index (its 2.13.0+cpu outranks PyPI's 2.13.0), only when that index answers: offline, or behind a
# mirror that already provides CPU wheels, pip must not stall or fail on it. PAD_TORCH_INDEX=URL picks another
# index; PAD_TORCH_INDEX=none keeps PyPI's CUDA build (for CUDA users).
torch_index_args() {
  local python="$1" index="${PAD_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
  if [ "$(uname -s)" != Linux ] || [ "$index" = none ]; then
    return 0
  fi
  if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=10)' \
      "$index" 2>/dev/null; then
    echo "--extra-index-url $index"
  else
    echo "note: $index does not answer; torch comes from pip's configured indexes" >&2
  fi
}

if [ "${PAD_SETUP_FUNCTIONS_ONLY:-}" = 1 ]; then
  return 0  # sourced by the tests for the functions above
fi

VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment $VENV"
  "$(find_python311)" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
stamp="$VENV/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing the project and its dependencies (first run: about a minute)"
  # The constraints file pins torch and torchvision together so pip never pulls a newer (CUDA) pair.
  # shellcheck disable=SC2046  # the index option is one or two words, or nothing
  "$VENV/bin/python" -m pip install -q -c constraints.txt $(torch_index_args "$VENV/bin/python") -e ".[test]"
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi
export PATH="$(cd "$VENV" && pwd)/bin:$PATH"
