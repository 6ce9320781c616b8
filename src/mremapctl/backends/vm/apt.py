"""A private apt configuration that sees Debian's kernel packages without touching the host's apt.

The host's own sources, pins and package state stay untouched: the lists, the
package cache and the sources of the suites we need all live in our cache folder,
and every apt call gets them with `-c` (read after the host's configuration, so it wins).
The mirror URLs are taken from the host's own Debian sources unless overridden.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from dataclasses import astuple
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from mremapctl.backends.vm.cache import locked, write_atomic
from mremapctl.backends.vm.errors import MirrorUnavailable, PrerequisiteError
from mremapctl.frozen import frozen

MIRROR_ENV = "MREMAPCTL_VM_MIRROR"
SECURITY_MIRROR_ENV = "MREMAPCTL_VM_SECURITY_MIRROR"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")

# (suite, which mirror) in the order we add them
SUITES: Tuple[Tuple[str, str], ...] = (
    ("bullseye", "main"),
    ("bullseye-security", "security"),
    ("bookworm", "main"),
    ("bookworm-security", "security"),
    ("bookworm-backports", "main"),
    ("trixie", "main"),
    ("trixie-security", "security"),
    ("trixie-backports", "main"),  # 6.16 to 7.3
    ("sid", "main"),  # the newest 7.2
    ("experimental", "main"),  # release candidates
)
# the names a kernel's packages start with (split kernels from 6.19: see catalog.py)
KERNEL_PREFIXES = ("linux-image-", "linux-binary-", "linux-modules-", "linux-base-")
DEBIAN_SUITES = {
    "buster",
    "bullseye",
    "bookworm",
    "trixie",
    "forky",
    "sid",
    "oldoldstable",
    "oldstable",
    "stable",
    "testing",
    "unstable",
}
MAX_LIST_AGE = 24 * 3600.0  # refresh the lists at most once a day unless asked
RETRY_AFTER_FAILURE = 3600.0  # offline: don't make every call wait for the mirror again

Progress = Callable[[str], None]


@frozen
class Stanza:
    """One binary package record from a Packages index."""

    package: str
    version: str
    suite: str
    size: int


def _sources_entries(etc: Path) -> Iterable[Tuple[str, str]]:
    """(uri, suite) pairs from the host's one-line and deb822 apt sources."""
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*"))]
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if path.name.endswith(".sources"):
            for block in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", block, re.M))
                if "deb" not in fields.get("Types", "").split() or fields.get("Enabled", "yes") == "no":
                    continue
                for uri in fields.get("URIs", "").split():
                    for suite in fields.get("Suites", "").split():
                        yield uri, suite
        elif path.name == "sources.list" or path.name.endswith(".list"):
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
                if len(words) >= 3 and words[0] == "deb":
                    yield words[1], words[2]


def host_mirrors(etc: Path = Path("/etc/apt")) -> Tuple[str, str]:
    """(Debian mirror, Debian security mirror), from the environment or the host's apt sources."""
    main = os.environ.get(MIRROR_ENV, "")
    security = os.environ.get(SECURITY_MIRROR_ENV, "")
    for uri, suite in _sources_entries(etc):
        base = suite.split("/")[0].split("-")[0]
        if base not in DEBIAN_SUITES:
            continue
        if suite.endswith("-security") or suite.endswith("/updates"):
            security = security or uri
        else:
            main = main or uri
    if main and not security and main.rstrip("/").endswith("/debian"):
        security = main.rstrip("/") + "-security"
    if not main or not security:
        raise MirrorUnavailable(f"no Debian mirror configured on this host; set {MIRROR_ENV} and {SECURITY_MIRROR_ENV}")
    return main.rstrip("/"), security.rstrip("/")


def _quote(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


class PrivateApt:
    """apt-get/apt lists confined to `root`, for one architecture's packages from several Debian suites."""

    def __init__(self, root: Path, arch: str = "amd64") -> None:
        self.root = root
        self.arch = arch
        self.conf = root / "apt.conf"
        self.lists = root / "state" / "lists"
        self.stamp = root / "state" / "updated"
        self.failed = root / "state" / "update-failed"
        self.index = self.index_path(KERNEL_PREFIXES)

    def index_path(self, prefixes: Sequence[str]) -> Path:
        """Where the records of one set of name prefixes are cached (kernels, or a userland's packages)."""
        name = (
            "kernel" if tuple(prefixes) == KERNEL_PREFIXES else hashlib.sha256(repr(prefixes).encode()).hexdigest()[:12]
        )
        return self.root / "state" / f"{name}-index.json"

    def write_config(self, mirrors: Optional[Tuple[str, str]] = None) -> None:
        """Create the folders, sources and apt.conf (cheap; rewritten on every update)."""
        if not KEYRING.exists():
            raise PrerequisiteError(f"missing {KEYRING}: apt-get install debian-archive-keyring")
        main, security = mirrors or host_mirrors()
        for sub in ("state/lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "state" / "status").touch()
        lines = []
        for suite, which in SUITES:
            uri = security if which == "security" else main
            lines.append(f"deb [arch={self.arch} signed-by={KEYRING}] {uri} {suite} main")
        (self.root / "sources.list").write_text("\n".join(lines) + "\n")
        r = str(self.root)
        settings = {
            "Dir::State": f"{r}/state",
            "Dir::State::Lists": f"{r}/state/lists",
            "Dir::State::status": f"{r}/state/status",
            "Dir::State::extended_states": f"{r}/state/extended_states",
            "Dir::Cache": f"{r}/cache",
            "Dir::Cache::archives": f"{r}/cache/archives",
            "Dir::Etc::SourceList": f"{r}/sources.list",
            "Dir::Etc::SourceParts": f"{r}/sources.list.d",
            "Dir::Etc::Preferences": f"{r}/preferences",
            "Dir::Etc::PreferencesParts": f"{r}/preferences.d",
            "APT::Architecture": self.arch,
            "Acquire::Languages": "none",
            "Acquire::GzipIndexes": "false",
            "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled": "false",
            "APT::Sandbox::User": "root",  # the _apt user could not write into a user's cache
            "Acquire::http::Timeout": "20",
            "Acquire::Retries": "2",
        }
        body = "".join(f"{k} {_quote(v)};\n" for k, v in settings.items())
        body += f'APT::Architectures {{ "{self.arch}"; }};\n'
        (self.conf).write_text(body)

    def _apt(
        self, tool: str, *args: str, cwd: Optional[Path] = None, progress: Optional[Progress] = None
    ) -> Tuple[int, str]:
        """Run an apt tool with our config; stream its lines to `progress`; return (rc, output)."""
        cmd = [tool, "-c", str(self.conf), "-q", *args]
        env = dict(os.environ, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )
        out: List[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if progress and line.strip():
                progress(line.rstrip())
        return proc.wait(), "".join(out)

    def lists_age(self) -> Optional[float]:
        """Seconds since the last successful update, or None if there never was one."""
        try:
            return time.time() - self.stamp.stat().st_mtime
        except FileNotFoundError:
            return None

    def has_lists(self) -> bool:
        return any(self.lists.glob("*_Packages"))

    def update(self, progress: Optional[Progress] = None) -> None:
        """Refresh the private lists; raise MirrorUnavailable when nothing usable came back."""
        self.write_config()
        if progress:
            progress("updating Debian package lists (" + ", ".join(suite for suite, _ in SUITES) + ")")
        rc, out = self._apt("apt-get", "update", progress=None)
        # apt-get update exits 0 even when a mirror can't be reached, so read what it said
        errors = [ln for ln in out.splitlines() if ln.startswith(("E:", "W: Failed to fetch"))]
        if not self.has_lists():
            self.failed.touch()
            raise MirrorUnavailable(
                "cannot reach the Debian mirrors: "
                + (errors[0] if errors else out.strip()[-200:] or f"apt-get exit {rc}")
            )
        if rc == 0 and not errors:
            self.stamp.touch()
            return
        self.failed.touch()  # retried after RETRY_AFTER_FAILURE; the lists we have stay usable
        if progress:
            progress("warning: some suites failed to update: " + "; ".join(errors[:2]))

    def ensure_lists(self, refresh: Optional[bool] = None, progress: Optional[Progress] = None) -> None:
        """Update when asked, when there are no lists, or when they are older than a day.

        A failed refresh of old-but-present lists is tolerated: stale lists still name the
        packages, and a cached kernel needs no mirror at all.
        """
        if refresh is False or (refresh is None and not self._stale()):
            return
        with locked(self.root, "update.lock"):  # parallel callers: one updates, the others wait
            if refresh is None and not self._stale():
                return
            try:
                self.update(progress)
            except MirrorUnavailable:
                if not self.has_lists():
                    raise
                if progress:
                    progress("warning: mirror unreachable, using the package lists from the last update")

    def _stale(self) -> bool:
        if not self.has_lists():
            return True
        age = self.lists_age()
        if age is not None and age <= MAX_LIST_AGE:
            return False
        try:  # old lists, but a refresh failed recently: use them rather than wait on the mirror again
            return time.time() - self.failed.stat().st_mtime > RETRY_AFTER_FAILURE
        except FileNotFoundError:
            return True

    def stanzas(self, prefixes: Sequence[str] = KERNEL_PREFIXES) -> List[Stanza]:
        """Every record whose package name starts with one of `prefixes`, across all suites' lists.

        Cached in a small index per set of prefixes until the next update: the lists are ~300 MB.
        """
        key = [list(prefixes), [[p.name, p.stat().st_mtime_ns] for p in sorted(self.lists.glob("*_Packages"))]]
        index = self.index_path(prefixes)
        try:
            saved = json.loads(index.read_text())
            if saved["key"] == key:
                return [Stanza(*row) for row in saved["stanzas"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        found = self._scan(tuple(prefixes))
        if self.lists.is_dir():
            write_atomic(index, json.dumps({"key": key, "stanzas": [astuple(s) for s in found]}).encode())
        return found

    def _scan(self, prefixes: Tuple[str, ...]) -> List[Stanza]:
        """Scan the Packages files as bytes with find(): decoding 300 MB would cost seconds."""
        first, last = min(prefixes), max(prefixes)
        common = next((i for i, (a, b) in enumerate(zip(first, last)) if a != b), min(len(first), len(last)))
        key = ("\nPackage: " + first[:common]).encode()  # every wanted record starts so
        wanted = tuple(("\nPackage: " + p).encode() for p in prefixes)
        found: List[Stanza] = []
        for path in sorted(self.lists.glob("*_Packages")):
            match = re.search(r"_dists_(.+?)_main_binary", path.name)
            suite = match.group(1).replace("_", "/") if match else "?"
            data = b"\n" + path.read_bytes()
            start = data.find(key)
            while start >= 0:
                end = data.find(b"\n\n", start + 1)
                end = len(data) if end < 0 else end
                if not data.startswith(wanted, start):
                    start = data.find(key, end)
                    continue
                record = data[start + 1 : end].decode("utf-8", "replace")
                fields: Dict[str, str] = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", record, re.M))
                found.append(
                    Stanza(
                        fields.get("Package", ""), fields.get("Version", ""), suite, int(fields.get("Size", "0") or 0)
                    )
                )
                start = data.find(key, end)
        return found

    def download(self, package: str, version: str, dest: Path, progress: Optional[Progress] = None) -> Path:
        """`apt-get download package=version` into `dest`; return the .deb path (nothing left on failure)."""
        return self.download_all([(package, version)], dest, progress)[0]

    def download_all(
        self, wanted: Sequence[Tuple[str, str]], dest: Path, progress: Optional[Progress] = None
    ) -> List[Path]:
        """Several (package, version) .debs in one apt-get call (each call reads all the lists: ~2 s);
        their paths in order, or MirrorUnavailable and none of them left."""
        self.write_config()
        dest.mkdir(parents=True, exist_ok=True)

        def remove() -> None:
            for package, _ in wanted:
                for part in dest.glob(f"{package}_*"):
                    part.unlink(missing_ok=True)

        remove()
        try:
            rc, out = self._apt("apt-get", "download", *(f"{p}={v}" for p, v in wanted), cwd=dest, progress=progress)
        except BaseException:
            remove()
            raise
        debs = [sorted(dest.glob(f"{package}_*.deb")) for package, _ in wanted]
        if rc != 0 or not all(debs):
            remove()
            tail = [ln for ln in out.splitlines() if ln.startswith(("E:", "Err:"))]
            names = " ".join(f"{p}={v}" for p, v in wanted)
            raise MirrorUnavailable(f"apt-get download {names} failed: " + (tail[0] if tail else out.strip()[-200:]))
        return [found[0] for found in debs]
