#!/usr/bin/env bash
# Copyright: isp.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ansible-test needs the collection at a real .../ansible_collections/isp/ops path (a symlink
# is not enough), so sanity runs on a copy of the checkout under .build/.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
dest=.build/ansible_collections/isp/ops
mkdir -p "$dest"
rsync -a --delete --exclude .venv --exclude .build --exclude .git --exclude tests/output \
    --exclude '__pycache__' ./ "$dest/"

# ansible-test bootstraps pip in its sanity venvs with a script it downloads from a host this
# machine cannot reach. A local stand-in that uses ensurepip does the same job.
pip_version=$("$here/.venv/bin/python" -c 'import pip; print(pip.__version__)')
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for v in "$pip_version" 24.0 24.2 24.3.1 25.0.1 25.1.1 25.2 25.3; do
    cat >"$cache/get_pip_${v//./_}.py" <<'PY'
"""Stand-in for get-pip.py: bootstrap pip with ensurepip, then install what was asked for."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [a for a in sys.argv[1:] if a not in ("--disable-pip-version-check", "--no-setuptools", "--no-wheel")]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
PY
done

# The copy sits inside this checkout's git tree, where git ignores it; give it its own index
# so that ansible-test sees exactly the files of the checkout.
cd "$dest"
rm -rf .git
git init -q . && git add -A
PATH="$here/.venv/bin:$PATH" ansible-test sanity --python 3.11 --color no "$@"
