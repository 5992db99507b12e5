"""A PEP 517 build backend for the otmm package using only the standard library, so that
`pip install sdk/python` needs no package index (none is reachable in CI). It builds a
pure-Python wheel of the otmm/ directory; metadata come from pyproject.toml's [project]
(name, version, description, requires-python). The shared library is not in the wheel:
otmm finds libotmmap through OTMM_LIBRARY or the installed path (otmm/__init__.py)."""

import base64
import hashlib
import io
import os
import tarfile
import zipfile

try:
    import tomllib
except ImportError:  # Python < 3.11: the few keys we need, by hand
    tomllib = None

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _project():
    text = open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8").read()
    if tomllib:
        return tomllib.loads(text)["project"]
    proj, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[project]" and "=" in line and not line.startswith("#"):
            k, v = (x.strip() for x in line.split("=", 1))
            if v.startswith('"'):
                proj[k] = v.strip('"')
    return proj


def _metadata():
    p = _project()
    lines = ["Metadata-Version: 2.1", "Name: " + p["name"], "Version: " + p["version"]]
    if p.get("description"):
        lines.append("Summary: " + p["description"])
    if p.get("requires-python"):
        lines.append("Requires-Python: " + p["requires-python"])
    return p, "\n".join(lines) + "\n"


def _files():
    for root, dirs, names in os.walk(os.path.join(HERE, "otmm")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for n in sorted(names):
            if n.endswith(".py") and n != "_installed.py":
                full = os.path.join(root, n)
                yield full, os.path.relpath(full, HERE).replace(os.sep, "/")


def _record_line(arc, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arc, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def _wheel(wheel_directory, editable):
    p, meta = _metadata()
    dist = "%s-%s" % (p["name"], p["version"])
    info = dist + ".dist-info"
    name = dist + "-py3-none-any.whl"
    entries = []
    if editable:  # PEP 660: a .pth pointing at the source tree
        entries.append(("otmm_editable.pth", (HERE + "\n").encode()))
    else:
        for full, arc in _files():
            entries.append((arc, open(full, "rb").read()))
    entries.append((info + "/METADATA", meta.encode()))
    entries.append((info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: otmm_build\n"
                    b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    record = [_record_line(a, d) for a, d in entries] + [info + "/RECORD,,"]
    entries.append((info + "/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in entries:
            zi = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, True)


def build_sdist(sdist_directory, config_settings=None):
    p, meta = _metadata()
    dist = "%s-%s" % (p["name"], p["version"])
    name = dist + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        paths = [(os.path.join(HERE, "pyproject.toml"), "pyproject.toml"),
                 (os.path.abspath(__file__), "_build/otmm_build.py")] + list(_files())
        for full, arc in paths:
            t.add(full, dist + "/" + arc)
        data = meta.encode()
        ti = tarfile.TarInfo(dist + "/PKG-INFO")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return name
