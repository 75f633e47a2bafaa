#!/usr/bin/env bash
# Opens the project's notebooks with the project's tslab kernel: JupyterLab 4 by default, Notebook 7 with
# --classic, both from the project's .venv (scripts/python-env.sh). Without .venv it opens Debian's Notebook 6
# (/usr/bin/python3 -m jupyter notebook), the one front end Debian packages.
# Run `npm run jupyter` (setup first), or this script after setup. Extra arguments go to Jupyter, e.g.
# `npm run jupyter -- --classic --no-browser --port 8890`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kernel_json="$root/.jupyter/share/jupyter/kernels/tslab/kernel.json"
if [[ ! -f "$kernel_json" ]]; then
  echo "jupyter: the tslab kernel is not registered ($kernel_json missing); run: npm run setup" >&2
  exit 1
fi

classic=0
rest=()
for arg in "$@"; do
  if [[ "$arg" == --classic ]]; then classic=1; else rest+=("$arg"); fi
done

# The project's kernel spec comes first; whatever the user had on JUPYTER_PATH stays after it.
export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
args=(--ip=127.0.0.1)
# Jupyter refuses to start as root without this; CI and containers run as root.
((EUID == 0)) && args+=(--allow-root)

venv_python="$root/.venv/bin/python"
if [[ -x "$root/.venv/bin/jupyter-lab" ]] && ((classic == 0)); then
  ui="JupyterLab 4"
  command=("$venv_python" -m jupyterlab --ServerApp.root_dir="$root/notebooks")
elif [[ -x "$root/.venv/bin/jupyter-notebook" ]]; then
  ui="Notebook 7"
  command=("$venv_python" -m notebook --ServerApp.root_dir="$root/notebooks")
else
  ui="Debian's Notebook 6 (JupyterLab 4 and Notebook 7 come with .venv: npm run setup)"
  command=(/usr/bin/python3 -m jupyter notebook --notebook-dir="$root/notebooks")
fi

# The render daemon (Chromium with plotly.js loaded) starts now, in the background, so that the first figure of the
# first notebook finds it warm instead of waiting seconds for a browser; it outlives this server and stops when idle.
node -e 'require(process.argv[1]).warmRenderer()' "$root/dist/lib/figures/render/chromium.js" 2>/dev/null ||
  echo "jupyter: the render daemon did not start now; the first figure will start it" >&2

echo "jupyter: $ui, notebooks in $root/notebooks, kernel \"TypeScript\" (tslab) from $root/.jupyter"
echo "jupyter: open the http://127.0.0.1:... URL with its token printed below; Ctrl-C twice stops the server"
exec "${command[@]}" "${args[@]}" ${rest[@]+"${rest[@]}"}
