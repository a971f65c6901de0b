"""A Jupyter kernel that compiles each C cell against the project's library and runs it.

Jupyter starts it through kernel.json as
    /usr/bin/python3 notebooks-c/kernel/derivation_kernel.py -f CONNECTION_FILE

How a cell is compiled (notebooks-c/README.md explains the same rules for
notebook authors):

- Magic comments: the cell's first lines that start with //% set options.
  //%timeout SECONDS changes the run time limit (default 60 s), //%keep keeps
  the cell for later cells, //%reset discards every kept cell.
- A //%keep cell holds declarations (includes, macros, types, functions). It is
  compiled to check it, not run, and its text is placed before every later cell.
- A cell with a line that starts with `int main(` is a complete program.
- Any other cell is the body of a generated `int main(void)`. Its #include
  lines are moved above main.
- Every generated file starts with the standard headers stdio.h, stdlib.h,
  string.h, math.h, stdbool.h, stdint.h and the project's tensor.h and ops.h.
- Flags: $CC (default cc) -std=c11 -Wall -O2 -D_POSIX_C_SOURCE=200809L
  -I common -I stages [-fopenmp] ... libderivation.a -lm.

The program runs in a working directory made for this kernel session,
NOTEBOOK_OUT, with PROJECT_ROOT set to the repository; every PNG file it
creates or modifies there is shown in the notebook.

Only Python's standard library and ipykernel are used, so Debian 12's
python3-ipykernel is enough.
"""

import atexit
import base64
import codecs
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ipykernel.kernelbase import Kernel

KERNEL_DIR = Path(__file__).resolve().parent
# notebooks-c/kernel/derivation_kernel.py -> the repository root
PROJECT_ROOT = KERNEL_DIR.parent.parent

KERNEL_NAME = "c-derivation"
DEFAULT_TIMEOUT_S = 60.0
COMPILE_TIMEOUT_S = 120.0
# A cell that prints more than this is cut off, so a runaway loop cannot fill the notebook.
MAX_OUTPUT_BYTES = 1_000_000

CFLAGS = ["-std=c11", "-Wall", "-O2", "-D_POSIX_C_SOURCE=200809L"]
PRELUDE_HEADERS = ["<stdio.h>", "<stdlib.h>", "<string.h>", "<math.h>", "<stdbool.h>",
                   "<stdint.h>", '"tensor.h"', '"ops.h"']
OPENMP_PROBE = "#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n"

MAGIC_PREFIX = "//%"
MAIN_PATTERN = re.compile(r"^[ \t]*int[ \t]+main[ \t]*\(", re.MULTILINE)
INCLUDE_PATTERN = re.compile(r"^[ \t]*#[ \t]*include\b")


class CellError(Exception):
    """A cell that cannot be run: its ename and evalue go to the notebook."""

    def __init__(self, ename, evalue):
        super().__init__(evalue)
        self.ename = ename
        self.evalue = evalue


def parse_magic(code):
    """Split a cell into its options and its C text.

    Returns (options, body): options has the keys timeout, keep and reset; body
    is the cell with each magic line replaced by an empty line, so that line
    numbers in compiler messages still match the cell.
    """
    options = {"timeout": DEFAULT_TIMEOUT_S, "keep": False, "reset": False}
    lines = code.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith(MAGIC_PREFIX):
            break
        words = stripped[len(MAGIC_PREFIX):].split()
        apply_magic(options, words, stripped)
        lines[index] = ""
    return options, "\n".join(lines)


def apply_magic(options, words, line):
    """Set the option that one magic line names; raise CellError on an invalid line."""
    name = words[0] if words else ""
    if name == "timeout" and len(words) == 2:
        try:
            seconds = float(words[1])
        except ValueError:
            seconds = 0.0
        if not 0 < seconds <= 86400:
            raise CellError("MagicError", f"invalid time limit in '{line}': "
                            "expected a number of seconds between 0 and 86400")
        options["timeout"] = seconds
    elif name in ("keep", "reset") and len(words) == 1:
        options[name] = True
    else:
        raise CellError("MagicError", f"unknown magic comment '{line}': expected "
                        "//%timeout SECONDS, //%keep or //%reset on the cell's first lines")


def hoist_includes(body):
    """Separate a statements cell's #include lines from its other lines.

    Returns (includes, body): includes is a list of (line number, text);
    body has each of those lines replaced by an empty line.
    """
    includes = []
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if INCLUDE_PATTERN.match(line):
            includes.append((index + 1, line))
            lines[index] = ""
    return includes, "\n".join(lines)


def prelude_text():
    """Return the lines every generated file starts with."""
    return "".join(f"#include {header}\n" for header in PRELUDE_HEADERS)


class DerivationKernel(Kernel):
    """Compiles and runs C cells; see the module docstring for the rules."""

    implementation = KERNEL_NAME
    implementation_version = "1.0"
    language = "c"
    language_version = "C11"
    language_info = {
        "name": "c",
        "version": "C11",
        "mimetype": "text/x-csrc",
        "file_extension": ".c",
        "codemirror_mode": "text/x-csrc",
        "pygments_lexer": "c",
    }
    banner = ("C (derivation): each cell is C11 compiled against the project's "
              "libderivation.a and run; see notebooks-c/README.md for the cell rules")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.session_dir = Path(tempfile.mkdtemp(prefix=f"{KERNEL_NAME}-"))
        self.out_dir = self.session_dir / "out"
        self.build_dir = self.session_dir / "build"
        self.out_dir.mkdir()
        self.build_dir.mkdir()
        atexit.register(shutil.rmtree, self.session_dir, ignore_errors=True)
        self.kept_bodies = []      # the C text of each //%keep cell
        self.kept_blocks = []      # the same text after its #line marker
        self.silent = False
        self.openmp_flags = None   # decided by the first compile
        self.compiler = os.environ.get("CC") or "cc"

    # ---------------------------------------------------------------- Jupyter

    def do_execute(self, code, silent, store_history=True, user_expressions=None,
                   allow_stdin=False):
        self.silent = silent
        try:
            self.execute_cell(code)
        except CellError as error:
            return self.report_error(error.ename, error.evalue)
        except KeyboardInterrupt:
            return self.report_error("KeyboardInterrupt", "interrupted; the program was stopped")
        return {"status": "ok", "execution_count": self.execution_count,
                "payload": [], "user_expressions": {}}

    def do_shutdown(self, restart):
        # NOTE: a kernel killed by SIGKILL runs neither this nor atexit and leaves its
        # directory in the system's temporary folder.
        shutil.rmtree(self.session_dir, ignore_errors=True)
        return {"status": "ok", "restart": restart}

    # ------------------------------------------------------------------ cells

    def execute_cell(self, code):
        """Compile one cell by the cell rules, then run it unless it is a //%keep cell."""
        options, body = parse_magic(code)
        if options["reset"]:
            self.kept_bodies = []
            self.kept_blocks = []
        if not body.strip():
            return

        label = f"In[{self.execution_count}]"
        if options["keep"]:
            self.keep_cell(body, label)
            return

        if MAIN_PATTERN.search(body):
            source = self.file_head() + f'#line 1 "{label}"\n' + body + "\n"
        else:
            source = self.generated_main(body, label)
        program = self.compile_program(source)
        self.run_program(program, options["timeout"])

    def keep_cell(self, body, label):
        """Check a //%keep cell by compiling it, then place it before every later cell."""
        if MAIN_PATTERN.search(body):
            raise CellError("MagicError", "a //%keep cell cannot define main, because every "
                            "later cell would then have two; remove //%keep to run it")
        if body in self.kept_bodies:
            return  # the same cell run again: keeping it twice would redefine its names

        block = f'#line 1 "{label}"\n' + body + "\n"
        source = self.write_source(self.file_head() + block)
        self.compile(source, ["-c"], self.build_dir / "keep_check.o")
        self.kept_bodies.append(body)
        self.kept_blocks.append(block)

    def file_head(self):
        """Return the prelude and, when there are kept cells, the #include of their file."""
        head = prelude_text()
        if self.kept_blocks:
            kept_path = self.build_dir / "kept.h"
            # system_header silences warnings on kept code, which were shown when it was kept.
            kept_path.write_text("#pragma GCC system_header\n" + "".join(self.kept_blocks))
            head += f'#include "{kept_path}"\n'
        return head

    def generated_main(self, body, label):
        """Wrap a statements cell in int main(void), with its #include lines moved above."""
        includes, body = hoist_includes(body)
        hoisted = "".join(f'#line {number} "{label}"\n{line}\n' for number, line in includes)
        return (self.file_head() + hoisted + "int main(void)\n{\n"
                + f'#line 1 "{label}"\n' + body + "\n}\n")

    # -------------------------------------------------------------- compiling

    def library_path(self):
        """Return the path of libderivation.a, or raise CellError when it is missing."""
        library = Path(os.environ.get("DERIVATION_LIB")
                       or PROJECT_ROOT / "build" / "lib" / "libderivation.a")
        if not library.is_file():
            raise CellError("LibraryNotFound", f"{library} does not exist: run `make` in "
                            f"{PROJECT_ROOT} to build it, then run the cell again")
        return library

    def detect_openmp(self):
        """Return ["-fopenmp"] when the compiler builds and links an OpenMP program, else []."""
        if self.openmp_flags is None:
            probe = self.build_dir / "openmp_probe.c"
            probe.write_text(OPENMP_PROBE)
            try:
                result = subprocess.run(
                    [self.compiler, "-fopenmp", str(probe), "-o", str(self.build_dir / "probe")],
                    stdin=subprocess.DEVNULL, capture_output=True, timeout=COMPILE_TIMEOUT_S)
                works = result.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                works = False
            self.openmp_flags = ["-fopenmp"] if works else []
        return self.openmp_flags

    def compile_program(self, source):
        """Compile and link a generated file; return the path of the program."""
        library = self.library_path()
        line_buffer = self.line_buffer_object()
        program = self.build_dir / "cell"
        self.compile(self.write_source(source), [str(line_buffer), str(library), "-lm"], program)
        return program

    def line_buffer_object(self):
        """Compile line_buffer.c once per session; it makes stdout line-buffered."""
        obj = self.build_dir / "line_buffer.o"
        if not obj.exists():
            self.compile(KERNEL_DIR / "line_buffer.c", ["-c"], obj)
        return obj

    def write_source(self, text):
        """Write a generated file into the build directory and return its path."""
        path = self.build_dir / "cell.c"
        path.write_text(text)
        return path

    def compile(self, source_path, extra_args, output):
        """Run the compiler on one file; stream warnings to stderr, raise CellError on failure."""
        command = [self.compiler, *CFLAGS, "-I", str(PROJECT_ROOT / "common"),
                   "-I", str(PROJECT_ROOT / "stages"), *self.detect_openmp(),
                   str(source_path), *extra_args, "-o", str(output)]
        try:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                    timeout=COMPILE_TIMEOUT_S, cwd=self.build_dir)
        except FileNotFoundError:
            raise CellError("CompileError", f"the C compiler '{self.compiler}' was not found: "
                            "install gcc or set CC before starting Jupyter") from None
        except subprocess.TimeoutExpired:
            raise CellError("CompileError", f"the compiler ran longer than "
                            f"{COMPILE_TIMEOUT_S:g} s and was stopped") from None

        message = result.stderr.decode("utf-8", "replace").strip()
        if result.returncode != 0:
            raise CellError("CompileError", message or
                            f"{self.compiler} exited with status {result.returncode}")
        if message:
            self.send_stream("stderr", message + "\n")

    # ---------------------------------------------------------------- running

    def run_program(self, program, timeout_s):
        """Run a compiled cell, stream its output, show its PNG files and check its exit."""
        before = self.png_state()
        environment = dict(os.environ, NOTEBOOK_OUT=str(self.out_dir),
                           PROJECT_ROOT=str(PROJECT_ROOT))
        process = subprocess.Popen([str(program)], cwd=self.out_dir, env=environment,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
        try:
            timed_out = self.stream_output(process, timeout_s)
        finally:
            self.stop_process_group(process)
        self.display_new_pngs(before)

        if timed_out:
            raise CellError("TimeoutError", f"the program ran longer than {timeout_s:g} s and "
                            "was stopped; put //%timeout SECONDS on the cell's first line "
                            "to allow more")
        status = process.returncode
        if status < 0:
            name = signal.Signals(-status).name if -status in signal.valid_signals() else "?"
            raise CellError("RuntimeError", f"the program was killed by signal {-status} "
                            f"({name})")
        if status > 0:
            raise CellError("RuntimeError", f"the program exited with status {status}")

    def stream_output(self, process, timeout_s):
        """Forward the program's stdout and stderr until it exits; return True on a timeout."""
        deadline = time.monotonic() + timeout_s
        selector = selectors.DefaultSelector()
        decoders = {}
        for name, pipe in (("stdout", process.stdout), ("stderr", process.stderr)):
            selector.register(pipe, selectors.EVENT_READ, name)
            decoders[name] = codecs.getincrementaldecoder("utf-8")("replace")
        self.output_bytes = 0

        timed_out = False
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            exited = process.poll() is not None
            # Once the program has exited, read only what its pipes already hold:
            # a process it started in the background may keep them open.
            events = selector.select(0 if exited else min(remaining, 0.5))
            if exited and not events:
                break
            for key, _ in events:
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                self.forward(key.data, decoders[key.data].decode(data), len(data))
        selector.close()
        for name, decoder in decoders.items():
            self.forward(name, decoder.decode(b"", final=True), 0)
        return timed_out

    def forward(self, name, text, byte_count):
        """Send program output to the notebook, up to MAX_OUTPUT_BYTES per cell."""
        if not text or self.output_bytes > MAX_OUTPUT_BYTES:
            return
        self.output_bytes += byte_count
        self.send_stream(name, text)
        if self.output_bytes > MAX_OUTPUT_BYTES:
            self.send_stream("stderr", f"\n[output cut off after {MAX_OUTPUT_BYTES} bytes; "
                             "the program keeps running]\n")

    def stop_process_group(self, process):
        """Kill the program and anything it started, then reap it and close its pipes."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
        process.stdout.close()
        process.stderr.close()

    # ---------------------------------------------------------------- figures

    def png_state(self):
        """Return {path: (mtime_ns, size)} for every PNG file under the working directory."""
        state = {}
        for path in self.out_dir.rglob("*"):
            if path.suffix.lower() == ".png" and path.is_file():
                stat = path.stat()
                state[path] = (stat.st_mtime_ns, stat.st_size)
        return state

    def display_new_pngs(self, before):
        """Show each PNG file created or modified since `before`, oldest first."""
        after = self.png_state()
        changed = [path for path, state in after.items() if before.get(path) != state]
        changed.sort(key=lambda path: (after[path][0], str(path)))
        for path in changed:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            name = path.relative_to(self.out_dir)
            if not self.silent:
                self.send_response(self.iopub_socket, "display_data", {
                    "data": {"image/png": data, "text/plain": f"<{name}>"},
                    "metadata": {},
                })

    # ---------------------------------------------------------------- replies

    def send_stream(self, name, text):
        if not self.silent:
            self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

    def report_error(self, ename, evalue):
        """Publish an error output and return the matching execute_reply content."""
        # Frontends show the traceback lines; a compiler message keeps its own lines.
        traceback = [f"{ename}: {evalue}"] if "\n" not in evalue else [f"{ename}:", evalue]
        content = {"ename": ename, "evalue": evalue, "traceback": traceback}
        if not self.silent:
            self.send_response(self.iopub_socket, "error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}


if __name__ == "__main__":
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=DerivationKernel)
