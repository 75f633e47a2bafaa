#!/usr/bin/env bash
# One-command setup for a fresh clone on Debian 12 (and a quick no-op when all is there):
#   1. Debian packages: Jupyter (on /usr/bin/python3), the Fashion-MNIST files, Chromium, PyTorch (reference runs)
#   2. npm packages (npm ci) when node_modules is missing or older than package-lock.json
#   3. TypeScript build (dist/) when a lib/ source is newer than it
#   4. the tslab kernel, registered inside the project (.jupyter/), never in the user's Jupyter folders
#   5. the project's Python environment .venv/ (scripts/python-env.sh): JupyterLab 4 and Notebook 7, pinned; TensorBoard (5b); Optuna (5d);
#      with the argument `keras`, also Keras 3 on TensorFlow CPU (python/keras.txt, 5c)
# Env: FASHION_ANN_SKIP_APT=1 skips step 1 (e.g. on a machine without apt; missing packages are then only reported).
#      FASHION_ANN_WHEELS=<folder> installs step 5 offline from that wheel folder (/opt/pypi/files is used if present).
#      CI=true makes a failed step 5 fatal: CI must run the JupyterLab/Notebook 7 tests, not skip them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started_ms=$(($(date +%s%N) / 1000000))
say() { printf 'setup: %s\n' "$*"; }

# --- 1. Debian packages ------------------------------------------------------------------
apt_packages=(
  jupyter-notebook jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel
  dataset-fashion-mnist chromium python3-torch libopenblas0-pthread poppler-utils
  libopenblas-dev g++ make
  postgresql
)
missing=()
for pkg in "${apt_packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  say "apt packages: all ${#apt_packages[@]} installed"
elif [[ "${FASHION_ANN_SKIP_APT:-}" == 1 ]]; then
  say "apt packages MISSING (FASHION_ANN_SKIP_APT=1, not installing): ${missing[*]}"
else
  if ((EUID == 0)); then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    say "missing Debian packages: ${missing[*]}" >&2
    say "run as root: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}" >&2
    say "(or set FASHION_ANN_SKIP_APT=1 to go on without them)" >&2
    exit 1
  fi
  say "installing apt packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# --- 2. npm packages ---------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install, so it is older than
# package-lock.json exactly when the lock file changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci (the optional @tensorflow/tfjs-node may fail to build; the wasm backend is used then)"
  npm ci --no-audit --no-fund
else
  say "node_modules up to date"
fi

# Notebooks import the library as "fashion-ann". tslab type-checks with Node10 module resolution, which
# finds packages only in node_modules (not through package.json "exports" self-references), so the
# project is linked there under its own name, as `npm link` would, without listing itself as a dependency.
if [[ "$(readlink node_modules/fashion-ann 2>/dev/null)" != ".." ]]; then
  rm -rf node_modules/fashion-ann
  ln -s .. node_modules/fashion-ann
  say "linked node_modules/fashion-ann -> . (for notebooks)"
fi

# --- 2b. native addon ----------------------------------------------------------------------
# The native engine (lib/engine/native/) is an N-API addon over OpenBLAS, compiled here against Node's own
# headers (nothing is downloaded). A failed build is recorded in native/build/status.txt, whose first line the
# backend line then gives as the reason it runs on wasm; setup itself goes on.
# The build key names everything the binary depends on: the sources and binding.gyp by content (a checkout of
# older files is not "newer"), Node's ABI and architecture, and the compiler. A build under another key (one
# copied from elsewhere, or from before the addon was portable, with -march=native) is rebuilt.
native_addon=native/build/Release/fashion_ann_native.node
native_status=native/build/status.txt
native_key_file=native/build/build-key.txt
native_key=$(
  {
    find native/src native/binding.gyp -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    node -p '`node ABI ${process.versions.modules} ${process.platform}-${process.arch}`'
    c++ --version 2>/dev/null | head -n1 || true
  } | sha256sum | cut -c1-16
)
built_key=$(cat "$native_key_file" 2>/dev/null || true)
if [[ -f "$native_addon" && "$built_key" == "$native_key" ]]; then
  say "native addon up to date"
elif [[ -f "$native_status" && "$(head -n1 "$native_status")" != ok && "$built_key" == "$native_key" ]]; then
  say "native addon: the last build failed ($(head -n1 "$native_status")); rm -rf native/build to try again"
else
  say "building the native addon (node-gyp, OpenBLAS)"
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  nodedir_flag=()
  [[ -f "$node_prefix/include/node/node_api.h" ]] && nodedir_flag=(--nodedir="$node_prefix")
  if native_log=$(cd native && node ../node_modules/node-gyp/bin/node-gyp.js rebuild "${nodedir_flag[@]}" 2>&1); then
    echo ok >"$native_status"
    echo "$native_key" >"$native_key_file"
    say "native addon built"
  else
    mkdir -p native/build
    printf '%s\n' "$native_log" >native/build/build.log
    first_error=$(grep -m1 -E 'error|Error' native/build/build.log | sed 's/^[[:space:]]*//' | cut -c1-200 || true)
    echo "the native addon did not build (${first_error:-see native/build/build.log}); see native/build/build.log, then rm -rf native/build && npm run setup" >"$native_status"
    echo "$native_key" >"$native_key_file"
    say "native addon build FAILED, training will use wasm: ${first_error:-see native/build/build.log}"
  fi
fi

# --- 3. build ----------------------------------------------------------------------------
# tsc writes dist/ even when it reports errors, so only a separate stamp, touched after a clean
# build, tells that dist/ matches the sources.
stamp=dist/.build-ok
if [[ ! -f "$stamp" ]] || [[ -n "$(find lib tsconfig.json package-lock.json -newer "$stamp" -print -quit)" ]]; then
  say "building TypeScript (lib/ -> dist/)"
  rm -f "$stamp"
  # From scratch: tsc never deletes the output of a moved or deleted source, and a stale dist/lib/config.js
  # would shadow dist/lib/config/index.js.
  rm -rf dist/lib
  node node_modules/typescript/bin/tsc -p tsconfig.json || { say "TypeScript build failed (errors above)" >&2; exit 1; }
  touch "$stamp"
else
  say "dist/ up to date"
fi

# --- 4. tslab kernel ---------------------------------------------------------------------
# Jupyter finds it through JUPYTER_PATH=$root/.jupyter/share/jupyter (set by the scripts and lib/notebook/execute.ts).
# `tslab install` writes the spec; its argv then runs the project's launcher (lib/notebook/kernel.ts), which is tslab's
# kernel that type-checks the library's declarations while it starts instead of in the first cell.
kernel_json=.jupyter/share/jupyter/kernels/tslab/kernel.json
kernel_js="$root/dist/lib/notebook/kernel.js"
if [[ -f "$kernel_json" ]] && grep -qF "\"$kernel_js\"" "$kernel_json"; then
  say "tslab kernel registered"
else
  say "registering the tslab kernel in .jupyter/"
  node_modules/.bin/tslab install --python=/usr/bin/python3 --binary="$root/node_modules/.bin/tslab" --prefix="$root/.jupyter" >/dev/null
  [[ -f "$kernel_json" ]] || { say "tslab install did not write $kernel_json" >&2; exit 1; }
  /usr/bin/python3 - "$kernel_json" "$(command -v node)" "$kernel_js" <<'PY'
import json, os, sys, tempfile
path, node, kernel_js = sys.argv[1:]
with open(path, encoding="utf-8") as f:
    spec = json.load(f)
spec["argv"] = [node, kernel_js, "--config-path", "{connection_file}"]
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
with os.fdopen(fd, "w", encoding="utf-8") as f:
    json.dump(spec, f)
os.replace(tmp, path)
PY
fi

# --- 5. Python environment (JupyterLab 4, Notebook 7) -------------------------------------
# Without it `npm run jupyter` opens Debian's Notebook 6 and the JupyterLab/Notebook 7 UI tests are skipped, so a
# machine without the wheels or the index still gets a working setup; CI must not skip them.
# python-env.sh prints its progress on stdout and, when it fails, one sentence saying why on stderr.
if ! python_error=$(bash scripts/python-env.sh jupyter 2>&1 >&3); then
  if [[ "${CI:-}" == true ]]; then
    say "CI needs JupyterLab 4 and Notebook 7 for their UI tests, but ${python_error##*setup: }" >&2
    exit 1
  fi
  say "JupyterLab 4 and Notebook 7 are not set up because ${python_error##*setup: }, so npm run jupyter opens Debian's Notebook 6 and their UI tests are skipped"
fi 3>&1
# --- 5b. TensorBoard (its own group, python/tensorboard.txt) ------------------------------------
# For `fashion-ann tensorboard` and the tests that read the runs' event files with TensorBoard's own code.
if ! tensorboard_error=$(bash scripts/python-env.sh tensorboard 2>&1 >&3); then
  [[ "${CI:-}" == true ]] && { say "CI needs TensorBoard for its tests, but ${tensorboard_error##*setup: }" >&2; exit 1; }
  say "TensorBoard is not set up because ${tensorboard_error##*setup: }, so fashion-ann tensorboard and its tests are unavailable"
fi 3>&1

# --- 5b'. Optuna (its own group, python/optuna.txt) ---------------------------------------------
# The reference the study export and importances are tested against (test/e2e/search-export.test.ts), and that
# `fashion-ann bench --samplers` measures our samplers against.
if ! optuna_error=$(bash scripts/python-env.sh optuna 2>&1 >&3); then
  [[ "${CI:-}" == true ]] && { say "CI needs Optuna for the study-export test, but ${optuna_error##*setup: }" >&2; exit 1; }
  say "Optuna is not set up because ${optuna_error##*setup: }, so the tests that load exported studies in Optuna are skipped and bench --samplers has no Optuna row"
fi 3>&1

# --- 5c. Keras on TensorFlow (python/keras.txt), only when asked: `bash scripts/setup.sh keras` ----------
# `npm test` and `npm run setup` ask for it (the Keras comparison tests, bench's keras row); `npm start` does not, so
# it never waits for TensorFlow's install. Without it those tests skip with a note; CI=true makes that fatal.
if [[ " $* " == *" keras "* ]] && ! keras_error=$(bash scripts/python-env.sh keras 2>&1 >&3); then
  [[ "${CI:-}" == true ]] && { say "CI needs Keras for the Keras comparison tests, but ${keras_error##*setup: }" >&2; exit 1; }
  say "Keras is not set up because ${keras_error##*setup: }, so the tests that compare with Keras are skipped"
fi 3>&1
elapsed_ms=$(($(date +%s%N) / 1000000 - started_ms))
say "ready in $((elapsed_ms / 1000)).$((elapsed_ms % 1000 / 100)) s"
