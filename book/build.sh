#!/usr/bin/env bash
# Build the course site into book/_build/html: README, docs/theory.md and the six notebooks,
# executed now against the current library (no cache), with MathJax 3 vendored from the npm
# registry (nothing is loaded from a CDN). Any Sphinx warning, stderr output or failing cell
# fails the build. Run from anywhere: bash book/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}

# MathJax 3 from the npm registry (the package's tarball, checked against its published sha512;
# no Node needed): only what tex-chtml.js loads is copied (the whole es5/ is 24 MB).
vendor=book/_build/vendor
"$python" - "$vendor" <<'PY'
import base64, hashlib, io, shutil, sys, tarfile, urllib.request
from pathlib import Path

VERSION = "3.2.2"
INTEGRITY = "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
KEEP = ("es5/tex-chtml.js", "es5/input/", "es5/output/chtml/", "es5/ui/", "es5/a11y/", "LICENSE")
target = Path(sys.argv[1]) / "mathjax"
if not (target / f"VERSION-{VERSION}").exists():
    url = f"https://registry.npmjs.org/mathjax/-/mathjax-{VERSION}.tgz"
    data = urllib.request.urlopen(url, timeout=120).read()
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != INTEGRITY:
        sys.exit(f"{url}: sha512 differs from the registry's published integrity")
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            if member.isfile() and name.startswith(KEEP):
                path = target / name.removeprefix("es5/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(tar.extractfile(member).read())
    (target / f"VERSION-{VERSION}").touch()
PY

rm -rf book/_build/html book/_build/jupyter_execute book/_build/.doctrees
export CPTEACH_STATIC_DASHBOARDS=1   # dashboards show their opening frame as a plain figure
"$python" -c "from jupyter_book.cli.main import main; main()" build . --config book/_config.yml --toc book/_toc.yml \
  --path-output book --builder html -W -n --keep-going
echo "site: book/_build/html/index.html"
