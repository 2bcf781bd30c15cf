#!/usr/bin/env python3
"""Checks that every relative link in README.md, BENCHMARKS.md and docs/*.md resolves.

A link `[text](path)` must name a file or directory that exists (relative to the page); `[text](path#anchor)` and
`[text](#anchor)` must also name a heading of that Markdown page, slugged as GitHub does (lower case, punctuation
other than `-` and `_` dropped, spaces to `-`, `-1`, `-2` … for repeats). Links inside code blocks and inline code
are ignored, and so are absolute URLs (http, https, mailto). Exit status 1 and one line per broken link otherwise.

Usage: Scripts/check-doc-links.py [FILE.md ...]     (default: README.md BENCHMARKS.md docs/*.md)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r'(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)\)')


def strip_code(text):
    """The page without fenced blocks and inline code, line numbers kept."""
    lines, fenced = [], False
    for line in text.split('\n'):
        if line.lstrip().startswith('```'):
            fenced = not fenced
            lines.append('')
            continue
        lines.append('' if fenced else re.sub(r'`[^`]*`', '``', line))
    return lines


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r'[^\w\- ]', '', s)
    return s.replace(' ', '-')


def anchors(path, cache={}):
    if path not in cache:
        found, seen, fenced = set(), {}, False
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.lstrip().startswith('```'):
                    fenced = not fenced
                    continue
                m = None if fenced else re.match(r'^#{1,6}\s+(.*?)\s*#*\s*$', line)
                if m:
                    base = slug(m.group(1))
                    n = seen.get(base, 0)
                    seen[base] = n + 1
                    found.add(base if n == 0 else f'{base}-{n}')
        cache[path] = found
    return cache[path]


def check(page):
    problems = []
    with open(page, encoding='utf-8') as f:
        lines = strip_code(f.read())
    for number, line in enumerate(lines, 1):
        for target in LINK.findall(line):
            if re.match(r'^[a-z]+:', target):
                continue
            path, _, anchor = target.partition('#')
            resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            where = f'{os.path.relpath(page, ROOT)}:{number}: {target}'
            if not os.path.exists(resolved):
                problems.append(f'{where}: no such file {os.path.relpath(resolved, ROOT)}')
            elif anchor and resolved.endswith('.md') and anchor not in anchors(resolved):
                problems.append(f'{where}: no heading #{anchor} in {os.path.relpath(resolved, ROOT)}')
    return problems


def main():
    pages = sys.argv[1:] or ['README.md', 'BENCHMARKS.md'] + sorted(
        os.path.join('docs', name) for name in os.listdir(os.path.join(ROOT, 'docs')) if name.endswith('.md'))
    problems, links = [], 0
    for page in pages:
        path = page if os.path.isabs(page) else os.path.join(ROOT, page)
        problems += check(path)
        with open(path, encoding='utf-8') as f:
            links += sum(len(LINK.findall(line)) for line in strip_code(f.read()))
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f'doc links: {links} links in {len(pages)} pages, {len(problems)} broken')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
