"""Where the browser bundle's bytes go: the release WASM's function bodies, grouped by the
crate their (mangled) names start with. Reads the WASM rustc wrote, before wasm-bindgen and
wasm-opt, whose `name` section still names every function (wasm-opt strips it and shrinks
the whole by about a third: read the shares, not the bytes). `make bench` runs it.

Hand-written rather than twiggy: twiggy lists items, not crates, so its output would be
grouped like this anyway, and it would cost every fresh machine one more `cargo install`.

    python3 benches/wasm_bytes.py FILE.wasm [ROWS]
"""

import collections
import re
import sys


def leb(b, i):
    result = shift = 0
    while True:
        x = b[i]
        i += 1
        result |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return result, i


def sections(data):
    i = 8
    while i < len(data):
        sid = data[i]
        size, i = leb(data, i + 1)
        yield sid, data[i : i + size]
        i += size


def imported_functions(body):
    n, j = leb(body, 0)
    funcs = 0
    for _ in range(n):
        for _ in range(2):  # module and field names
            length, j = leb(body, j)
            j += length
        kind = body[j]
        j += 1
        if kind == 0:  # function: type index
            _, j = leb(body, j)
            funcs += 1
        elif kind == 1:  # table: element type, limits
            j += 1
            flags = body[j]
            _, j = leb(body, j + 1)
            if flags & 1:
                _, j = leb(body, j)
        elif kind == 2:  # memory: limits
            flags = body[j]
            _, j = leb(body, j + 1)
            if flags & 1:
                _, j = leb(body, j)
        elif kind == 3:  # global: type, mutability
            j += 2
    return funcs


def crate_of(name):
    """The crate a mangled Rust name belongs to (an impl's: its type's crate)."""
    m = re.match(r"_ZN(\d+)(.*)", name)
    if m:
        first = m.group(2)[: int(m.group(1))]
        if first.startswith("_$LT$"):
            inner = first[len("_$LT$") :].replace("$RF$", "").replace("mut$u20$", "")
            inner = inner.replace("$u20$", " ").replace("..", "::")
            crate = re.split(r"::| |\$", inner)[0] or first
            # `<T as Trait>`: a blanket impl, whichever crate's type it runs for.
            return "(blanket impls, <T as ...>)" if re.fullmatch(r"[A-Z]", crate) else crate
        return first
    if name.startswith("_R"):
        m = re.search(r"\d+([A-Za-z_][A-Za-z0-9_]*)", name[2:])
        return m.group(1) if m else name
    return "(wasm-bindgen glue and others)"


def main(path, rows):
    data = open(path, "rb").read()
    imports, bodies, names = 0, [], {}
    for sid, body in sections(data):
        if sid == 2:
            imports = imported_functions(body)
        elif sid == 10:
            n, j = leb(body, 0)
            for _ in range(n):
                length, k = leb(body, j)
                bodies.append(length + (k - j))
                j = k + length
        elif sid == 0:
            length, j = leb(body, 0)
            if body[j : j + length] != b"name":
                continue
            j += length
            while j < len(body):
                sub = body[j]
                size, j = leb(body, j + 1)
                end = j + size
                if sub == 1:
                    n, k = leb(body, j)
                    for _ in range(n):
                        index, k = leb(body, k)
                        length, k = leb(body, k)
                        names[index] = body[k : k + length].decode("utf-8", "replace")
                        k += length
                j = end
    by_crate = collections.Counter()
    for i, size in enumerate(bodies):
        by_crate[crate_of(names.get(i + imports, ""))] += size
    total = sum(bodies)
    print(f"WASM code by crate ({path}: {total // 1024} KiB of code in {len(bodies)} functions)")
    for crate, size in by_crate.most_common(rows):
        print(f"  {size // 1024:>6} KiB {100 * size / total:5.1f}%  {crate}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20)
