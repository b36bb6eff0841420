"""``glassnet data fetch|info``: download Fashion-MNIST or MNIST, or show where the data is found."""

from __future__ import annotations

import argparse

from glassnet.cli._common import eprint, positive_float


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "data",
        help="download or locate the image data sets",
        description="Download Fashion-MNIST or MNIST (glassnet data fetch NAME), or show where each data set "
        "is found (glassnet data info).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    fetch = actions.add_parser(
        "fetch",
        help="download a data set's official IDX files and verify their checksums",
        description="Download the four official IDX .gz files and verify their published checksums. "
        "Files go to --dest, else $GLASSNET_DATA/<name>, else ~/.cache/glassnet/data/<name>. Nothing is "
        "downloaded if the data set is already installed where glassnet looks for it (see `glassnet data "
        "info`, e.g. Debian's /usr/share/datasets/fashion-mnist) and its checksums match; --dest or --force "
        "download anyway.",
    )
    fetch.add_argument("name", choices=("fashion-mnist", "mnist"), help="the data set")
    fetch.add_argument("--dest", help="destination folder")
    fetch.add_argument("--mirror", help="base URL of a mirror holding the same file names")
    fetch.add_argument(
        "--timeout", type=positive_float, default=60.0, help="seconds per request (default 60)"
    )
    fetch.add_argument(
        "--force", action="store_true", help="download even if the data set is installed and verified"
    )
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    info = actions.add_parser("info", help="show where each data set is found", description="Show the folders "
                              "searched for each image data set and which one holds it.")  # fmt: skip
    info.add_argument("--data-dir", help="folder searched first")
    for action in (fetch, info):
        action.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return p


def run(args) -> int:
    return _fetch(args) if args.action == "fetch" else _info(args)


def _fetch(args) -> int:
    from glassnet.data import fetch

    if args.dest is None and not args.force:
        folder, problem = _installed(args.name)
        if folder is not None and problem is None:
            print(f"{args.name}: already installed in {folder} (checksums verified); nothing downloaded "
                  "(--force downloads anyway)")  # fmt: skip
            return 0
        if folder is not None:
            eprint(f"note: {folder} holds {args.name}, but {problem}; downloading a fresh copy")
    bars = {}

    def progress(name, done, total):
        if args.no_progress:
            return
        if name not in bars:
            from tqdm.auto import tqdm

            bars[name] = tqdm(total=total, desc=name, unit="B", unit_scale=True, leave=True)
        bar = bars[name]
        bar.update(done - bar.n)

    try:
        dest = fetch(args.name, args.dest, base_url=args.mirror, timeout=args.timeout, force=args.force,
                     progress=progress)  # fmt: skip
    finally:
        for bar in bars.values():
            bar.close()
    print(f"{args.name}: verified files in {dest}")
    return 0


def _installed(name: str):
    """Where ``name`` is: ``(folder, None)`` if verified, ``(folder, problem)`` if not, else ``(None, None)``.

    Files kept compressed (``.gz``) are checked against the published checksums; decompressed ones against
    the SHA-256 of the decompressed data where it is published (Fashion-MNIST), else taken as they are.
    """
    import hashlib

    from glassnet.data import ChecksumError, DataNotFoundError, find_idx_dir, get_source, verify_file

    try:
        folder, paths = find_idx_dir(name)
    except DataNotFoundError:
        return None, None
    for path, spec in zip(paths, get_source(name).files, strict=True):
        try:
            if path.suffix == ".gz":
                verify_file(path, spec)
            elif spec.sha256_raw and hashlib.sha256(path.read_bytes()).hexdigest() != spec.sha256_raw:
                raise ChecksumError(f"checksum mismatch for {path.name}")
        except (ChecksumError, OSError) as exc:
            return folder, str(exc)
    return folder, None


def _info(args) -> int:
    from glassnet.data import SOURCES, DataNotFoundError, find_idx_dir, search_dirs

    print("digits: ships with scikit-learn")
    for name in SOURCES:
        try:
            folder, _ = find_idx_dir(name, args.data_dir)
            print(f"{name}: found in {folder}")
        except DataNotFoundError:
            print(f"{name}: not found; get it with `glassnet data fetch {name}`")
        eprint("  searched: " + ", ".join(str(d) for d in search_dirs(name, args.data_dir)))
    return 0
