#!/usr/bin/env python3
#
# Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
# See file LICENSE for terms.
#
# contrib/check-structure.py [SRCDIR]: the structure rules of docs/DESIGN.md
# section 1, checked on the source tree. Prints one PASS/FAIL line per rule
# and "N passed, M failed".
#   ownership  each slice of uct_mp_ep_t is written only by its module's file
#   layering   calls between the uct_mp/ modules form no circle
#   size       no function over 80 lines, no file over 800 lines
#
import os
import re
import sys

SRCDIR = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLUE = os.path.join(SRCDIR, 'uct_mp')
CORE = os.path.join(SRCDIR, 'src')

# slice of uct_mp_ep_t -> the only file that writes it
OWNERS = {
    'lane': 'mp_lane.c', 'ctrl': 'mp_ctrl.c', 'am': 'mp_am.c',
    'rma': 'mp_rma.c', 'bounce': 'mp_bounce.c', 'flush': 'mp_flush.c',
    'fence': 'mp_fence.c', 'pending': 'mp_pending.c', 'ka': 'mp_keepalive.c',
    'join': 'mp_join.c', 'drain': 'mp_drain.c', 'work': 'mp_work.h',
}
# fields of uct_mp_ep_t itself, owned by mp_ep.c
EP_FIELDS = ('token', 'remote_token', 'closing', 'list')
# files that make one module together (an endpoint and its own helpers)
MODULE_OF = {'mp_ep_ops': 'mp_ep', 'mp_iface_lane': 'mp_iface',
             'mp_iface_config': 'mp_iface'}

MAX_FUNC_LINES = 80
MAX_FILE_LINES = 800

ASSIGN = r'(?:=(?!=)|\+=|-=|\|=|&=|\^=|<<=|>>=)'
# the address of a member may be given only to these, which read it
READERS = r'(?:ucs_queue_is_empty|ucs_queue_length|ucs_list_is_empty|' \
          r'ucs_list_length)\('


def strip_comments_strings(text):
    """Comments and string literals replaced by blanks, lines kept"""
    def blank(m):
        return re.sub(r'[^\n]', ' ', m.group(0))
    text = re.sub(r'/\*.*?\*/', blank, text, flags=re.S)
    text = re.sub(r'//[^\n]*', blank, text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', blank, text)


def sources(directory, exts):
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if f.endswith(exts))


def check_ownership(files):
    errors = []
    for path in files:
        name = os.path.basename(path)
        text = strip_comments_strings(open(path).read())
        for sub, owner in OWNERS.items():
            if name == owner:
                continue
            member = r'\w+->%s\.[\w\.\[\]>-]*' % sub
            patterns = [member + r'\s*' + ASSIGN, r'(?:\+\+|--)\s*' + member,
                        member + r'\s*(?:\+\+|--)', r'&\s*' + member]
            for pat in patterns:
                for m in re.finditer(pat, text):
                    if re.search(READERS + r'\s*$', text[:m.start()]):
                        continue
                    line = text.count('\n', 0, m.start()) + 1
                    errors.append('%s:%d writes ep->%s (owned by %s)' %
                                  (name, line, sub, owner))
        if name != 'mp_ep.c':
            for field in EP_FIELDS:
                pat = r'\b(?:ep|self)->%s\s*%s' % (field, ASSIGN)
                for m in re.finditer(pat, text):
                    line = text.count('\n', 0, m.start()) + 1
                    errors.append('%s:%d writes ep->%s (owned by mp_ep.c)' %
                                  (name, line, field))
    return errors


FUNC_DEF = re.compile(r'^(?=[A-Za-z_])(?!(?:if|for|while|switch|return|else|do)\b)'
                      r'[\w\s\*:&<>,~]*?\b(\w+)\s*\(([^;{}]*?)\)'
                      r'\s*(?:const\s*)?(?:noexcept\s*)?\{', re.M | re.S)


def functions(text):
    """(name, first line, last line, body) of each function defined"""
    result = []
    for m in FUNC_DEF.finditer(text):
        start = m.end() - 1
        depth, i = 0, start
        while i < len(text):
            if text[i] == '{':
                depth += 1
            elif text[i] == '}':
                depth -= 1
                if depth == 0:
                    break
            i += 1
        first = text.count('\n', 0, m.start()) + 1
        last = text.count('\n', 0, i) + 1
        result.append((m.group(1), first, last, text[start:i]))
    return result


def module(path):
    base = os.path.splitext(os.path.basename(path))[0]
    return MODULE_OF.get(base, base)


def check_layering(files):
    defined, bodies = {}, []
    for path in files:
        text = strip_comments_strings(open(path).read())
        for name, _, _, body in functions(text):
            if name.startswith('uct_mp_'):
                defined.setdefault(name, module(path))
            bodies.append((module(path), name, body))
    edges = {}
    for mod, name, body in bodies:
        for call in re.findall(r'\b(uct_mp_\w+)\s*\(', body):
            callee = defined.get(call)
            if (callee is not None) and (callee != mod):
                edges.setdefault(mod, {}).setdefault(callee, (name, call))
    # circles: strongly connected components of more than one module
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(scc)

    for v in sorted(set(m for m, _, _ in bodies)):
        if v not in index:
            visit(v)
    errors = []
    for scc in sccs:
        if len(scc) > 1:
            calls = ['%s.%s -> %s.%s' % (a, edges[a][b][0], b, edges[a][b][1])
                     for a in sorted(scc) for b in sorted(edges.get(a, {}))
                     if b in scc]
            errors.append('call circle among %s: %s' %
                          (', '.join(sorted(scc)), '; '.join(calls)))
    return errors, edges


def check_size(files):
    errors = []
    for path in files:
        raw = open(path).read()
        name = os.path.relpath(path, SRCDIR)
        if raw.count('\n') > MAX_FILE_LINES:
            errors.append('%s: %d lines (at most %d)' %
                          (name, raw.count('\n'), MAX_FILE_LINES))
        for func, first, last, _ in functions(strip_comments_strings(raw)):
            if last - first + 1 > MAX_FUNC_LINES:
                errors.append('%s:%d: %s is %d lines (at most %d)' %
                              (name, first, func, last - first + 1,
                               MAX_FUNC_LINES))
    return errors


def layers(edges, mods):
    """Modules by height: a module sits above everything it calls"""
    height = {}

    def h(m, seen=()):
        if m not in height:
            callees = [c for c in edges.get(m, {}) if c not in seen]
            height[m] = 1 + max([h(c, seen + (m,)) for c in callees] or [-1])
        return height[m]
    for m in mods:
        h(m)
    return height


def main():
    glue = sources(GLUE, ('.c', '.h'))
    code = [f for f in glue if f.endswith('.c')] + sources(CORE, ('.cc',))
    passed = failed = 0
    layering, edges = check_layering(glue)
    for rule, errors in (('ownership', check_ownership(glue)),
                         ('layering', layering), ('size', check_size(code))):
        for e in errors:
            print('  ' + e)
        print('%s %s' % ('FAIL' if errors else 'PASS', rule))
        passed += not errors
        failed += bool(errors)
    height = layers(edges, set(module(f) for f in glue))
    for level in sorted(set(height.values()), reverse=True):
        print('  layer %d: %s' % (level, ' '.join(
            sorted(m for m in height if height[m] == level))))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
