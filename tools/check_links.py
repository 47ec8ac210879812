#!/usr/bin/env python3
"""Checks that every relative link in the project's Markdown resolves.

Scans every tracked *.md file (`git ls-files`; outside a git checkout, every *.md under the root),
except fuzz/logs/ and node_modules/. For each inline link `[text](target)`, image `![alt](target)`,
reference definition `[name]: target` and HTML `href="target"` outside code:
- a URL with a scheme (https:, mailto:, ...) is not checked (no network);
- a relative path must name an existing file or directory, relative to the linking file;
- a `#anchor` (alone, or after a .md path) must be a heading of that Markdown file, slugged as GitHub
  does (lower case, punctuation dropped, spaces to hyphens, repeats numbered -1, -2, ...), or an
  explicit `id=` / `name=` anchor in it.

Prints each broken link as `file:line: target (reason)` and exits 1 if there is any; exits 0 with a
count otherwise. Standard library only: `python3 tools/check_links.py`.
"""

import pathlib
import re
import subprocess
import sys
import unicodedata
from urllib.parse import unquote

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXCLUDED = ("fuzz/logs/", "node_modules/")

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target); text may hold one level of brackets ([`a[0]`](x)).
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\"|\s+'[^']*')?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s+(<[^>]*>|\S+)")
HTML_HREF = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
HTML_ANCHOR = re.compile(r"""<[^>]+\b(?:id|name)\s*=\s*["']([^"']+)["']""")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def markdown_files():
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--", "*.md"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        paths = [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.md")]
    return sorted(p for p in paths if not any(part in p for part in EXCLUDED) and (ROOT / p).is_file())


def outside_fences(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        yield number, line


def prose_lines(text):
    """The lines outside fenced code, with inline code blanked out (links in code are not links)."""
    for number, line in outside_fences(text):
        yield number, INLINE_CODE.sub(lambda c: " " * len(c.group(0)), line)


def heading_text(raw):
    """A heading's text as GitHub renders it: links to their text, code and emphasis marks dropped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "").replace("*", "")


def slug(text):
    """GitHub's heading anchor: lower case; letters, digits, marks, `-`, `_` and spaces kept; spaces to `-`."""
    out = []
    for ch in text.strip().lower():
        if ch == " ":
            out.append("-")
        elif ch in "-_" or unicodedata.category(ch)[0] in "LNM":
            out.append(ch)
    return "".join(out)


_anchors = {}


def anchors(path):
    """Every anchor a Markdown file defines: its headings' slugs (repeats numbered) and HTML ids."""
    if path not in _anchors:
        found, seen = set(), {}
        for _, line in outside_fences(path.read_text(encoding="utf-8")):
            m = HEADING.match(line)
            if m:
                base = slug(heading_text(m.group(2)))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
            found.update(HTML_ANCHOR.findall(line))
        _anchors[path] = found
    return _anchors[path]


def check(source, number, target):
    """None if `target`, linked from `source`, resolves; else why not."""
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1]
    if SCHEME.match(target) or target.startswith("//"):
        return None
    path_part, _, anchor = target.partition("#")
    path_part = unquote(path_part.split("?", 1)[0])
    if path_part:
        if path_part.startswith("/"):
            resolved = ROOT / path_part.lstrip("/")  # GitHub reads /x as the repository root's x
        else:
            resolved = (ROOT / source).parent / path_part
        if not resolved.exists():
            return "no such file"
        try:
            resolved.resolve().relative_to(ROOT)
        except ValueError:
            return "outside the repository"
    else:
        resolved = ROOT / source
    if anchor:
        if resolved.is_dir() or resolved.suffix.lower() != ".md":
            return None  # anchors into code (#L10) or directories are GitHub's to resolve
        if unquote(anchor) not in anchors(resolved):
            return f"no heading #{anchor} in {resolved.relative_to(ROOT)}"
    return None


def main():
    broken, checked = [], 0
    files = markdown_files()
    for source in files:
        text = (ROOT / source).read_text(encoding="utf-8")
        for number, line in prose_lines(text):
            targets = [m.group(1) for m in INLINE_LINK.finditer(line)]
            targets += [m.group(1) for m in REFERENCE_DEF.finditer(line)]
            targets += HTML_HREF.findall(line)
            for target in targets:
                checked += 1
                reason = check(source, number, target)
                if reason:
                    broken.append(f"{source}:{number}: {target} ({reason})")
    for line in broken:
        print(line)
    if broken:
        print(f"check_links: {len(broken)} broken link(s) of {checked} in {len(files)} Markdown files", file=sys.stderr)
        return 1
    print(f"check_links: {checked} links in {len(files)} Markdown files, all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
