#!/usr/bin/env python3
"""--split-input-file for any command (lit substitution %split_input_file).

    %split_input_file FILE COMMAND [ARGS...]
    (split-input-file.py --dir %t.split FILE COMMAND [ARGS...])

Splits FILE at its `// -----` lines, as mlir-opt --split-input-file does,
and runs `COMMAND ARGS... SPLIT` once per split, in order, each on a file of
its own. The clusterc driver has no --split-input-file, and the plugin in
mlir-opt cannot run in sanitized builds; this runs the driver itself (with
its reports, diagnostics and exit codes) on one case at a time.

 - Split N is written to DIR/N/ under FILE's own name, with the other
   splits' lines left blank: diagnostics name the same file, line and column
   as in FILE, so `[[@LINE+1]]` in a CHECK line works. DIR (the test's
   %t.split; replaced on each run) is the same on every run, so two runs
   that should give the same output (locations included) can be compared
   with cmp.
 - `{split}` in an argument becomes the split's number (0, 1, ...), for
   output paths: `-o %t.{split}.mlir`.
 - Like mlir-opt, a `// -----` line on stdout separates the splits' outputs;
   stdout and stderr are the command's own, in order.
 - Every split runs; the exit status is that of the first split that
   failed, else 0 (so `not %split_input_file ...` needs one failing split,
   and FileCheck says which). A split killed by a signal kills this script
   with the same signal, so a crash stays a crash for `not`.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

SEPARATOR = "// -----"


def main(argv):
    args = argv[1:]
    tmp = None
    if len(args) > 1 and args[0] == "--dir":
        tmp, args = args[1], args[2:]
    if len(args) < 2:
        sys.stderr.write(__doc__)
        return 2
    path, command = args[0], args[1:]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    starts = [0] + [i + 1 for i, line in enumerate(lines) if line.rstrip() == SEPARATOR]
    ends = [i - 1 for i in starts[1:]] + [len(lines)]
    keep = tmp is not None
    if keep:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
    else:
        tmp = tempfile.mkdtemp(prefix="split-input-file.")
    status = 0
    try:
        for n, (begin, end) in enumerate(zip(starts, ends)):
            split_dir = os.path.join(tmp, str(n))
            os.mkdir(split_dir)
            split_path = os.path.join(split_dir, os.path.basename(path))
            with open(split_path, "w", encoding="utf-8") as f:
                f.write("\n".join(line if begin <= i < end else ""
                                  for i, line in enumerate(lines)))
            if n:
                sys.stdout.write(SEPARATOR + "\n")
                sys.stdout.flush()
            args = [a.replace("{split}", str(n)) for a in command] + [split_path]
            rc = subprocess.call(args)
            if rc < 0:  # killed by a signal: so are we (`not` must see a crash)
                sys.stdout.flush()
                signal.signal(-rc, signal.SIG_DFL)
                os.kill(os.getpid(), -rc)
            if rc and not status:
                status = rc
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
