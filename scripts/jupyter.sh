#!/usr/bin/env bash
# Opens the project's notebooks in Jupyter Notebook (Debian's, on /usr/bin/python3) with the
# project's tslab kernel. Run `npm run jupyter` (setup first), or this script after setup.
# Extra arguments go to Jupyter, e.g. `npm run jupyter -- --no-browser --port 8890`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kernel_json="$root/.jupyter/share/jupyter/kernels/tslab/kernel.json"
if [[ ! -f "$kernel_json" ]]; then
  echo "jupyter: the tslab kernel is not registered ($kernel_json missing); run: npm run setup" >&2
  exit 1
fi

# The project's kernel spec comes first; whatever the user had on JUPYTER_PATH stays after it.
export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
args=(--notebook-dir="$root/notebooks" --ip=127.0.0.1)
# Jupyter refuses to start as root without this; CI and containers run as root.
((EUID == 0)) && args+=(--allow-root)

echo "jupyter: notebooks in $root/notebooks, kernel \"TypeScript\" (tslab) from $root/.jupyter"
echo "jupyter: open the http://127.0.0.1:... URL with its token printed below; Ctrl-C twice stops the server"
exec /usr/bin/python3 -m jupyter notebook "${args[@]}" "$@"
