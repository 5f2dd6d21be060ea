"""Report of one clean release build for scripts/bench-build.

Usage: build_report.py TARGET_DIR BINARY_DIR WALL_SECONDS

Prints the wall time, the slowest units from cargo's `--timings` report (the C build of the
TLS crypto library and the link steps of the function binaries, where thin or fat LTO runs),
and for each function its stripped binary size and the size of a Lambda zip holding it as
`bootstrap` (deflate at zlib's default level, as `cargo lambda build --output-format zip`).
"""

import glob
import io
import json
import os
import re
import sys
import zipfile


def units(target_dir):
    """The units of cargo's timings report: name, target, duration in seconds."""
    reports = sorted(glob.glob(os.path.join(target_dir, "cargo-timings", "cargo-timing-*.html")))
    if not reports:
        return []
    with open(reports[-1], encoding="utf-8") as f:
        html = f.read()
    match = re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S)
    return json.loads(match.group(1)) if match else []


def zipped_size(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
    return len(buffer.getvalue())


def machine(path):
    """The ELF header's machine: what the binary runs on."""
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return "not an ELF file"
    return {62: "x86_64", 183: "aarch64"}.get(int.from_bytes(head[18:20], "little"), "other")


def main():
    if len(sys.argv) == 3:  # TARGET_DIR WALL_SECONDS: the host's release folder
        sys.argv[2:2] = [os.path.join(sys.argv[1], "release")]
    target_dir, release, wall = sys.argv[1], sys.argv[2], float(sys.argv[3])
    print(f"clean build of the functions: {wall / 60:.1f} min ({wall:.0f} s)")
    data = units(target_dir)
    if data:
        links = [u for u in data if "bin" in u.get("target", "")]
        link_total = sum(u["duration"] for u in links)
        crypto = [u for u in data if u["name"] in ("aws-lc-sys", "ring")]
        print(
            f"  units: {len(data)}; the {len(links)} function binaries (codegen and LTO link):"
            f" {link_total:.0f} s of compile time in all, the slowest {max((u['duration'] for u in links), default=0):.0f} s"
        )
        for u in crypto:
            print(f"  {u['name']} {u['version']}{u['target']}: {u['duration']:.0f} s")
        slowest = sorted(data, key=lambda u: u["duration"], reverse=True)[:5]
        print("  slowest units: " + ", ".join(f"{u['name']}{u['target']} {u['duration']:.0f} s" for u in slowest))
    sizes = []
    for manifest in sorted(glob.glob("functions/*/Cargo.toml")):
        name = os.path.basename(os.path.dirname(manifest))
        binary = os.path.join(release, name)
        if not os.path.exists(binary):  # cargo-lambda moves it to lambda/<name>/bootstrap
            binary = os.path.join(target_dir, "lambda", name, "bootstrap")
        size, zipped = os.path.getsize(binary), zipped_size(binary)
        sizes.append(zipped)
        print(f"  {name:<18} binary {size / 1e6:6.2f} MB   zip {zipped / 1e6:5.2f} MB   {machine(binary)}")
    print(f"  zips: {min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} MB, {sum(sizes) / 1e6:.1f} MB in all")


if __name__ == "__main__":
    main()
