"""Check the C notebook kernel by executing small notebooks through it.

Run by `make check-notebooks` as
    DERIVATION_LIB=build/lib/libderivation.a /usr/bin/python3 notebooks-c/tests/check_kernel.py
It tests the kernel in this repository, not an installed one: a kernel spec for
it is written into a temporary JUPYTER_PATH. The kernel's working directory is
another temporary directory, so nothing depends on where the script is run.
Prints one line per check and exits 1 when any check fails.

Needs Debian 12's python3-nbclient, python3-nbformat and python3-ipykernel, the
project's library (make) and gnuplot with its png terminal.
"""

import base64
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNEL_DIR = Path(__file__).resolve().parent.parent / "kernel"
PROJECT_ROOT = KERNEL_DIR.parent.parent
KERNEL_NAME = "c-derivation"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The first notebook: one cell that prints through the library, one that does not compile.
# a = [[1, 2], [3, 4]], b = [[5, 6], [7, 8]]; by hand, a b = [[19, 22], [43, 50]].
LIBRARY_CELL = r"""
Tape tape;
tape_init(&tape);
Tensor *a = tape_tensor(&tape, shape2(2, 2), false);
Tensor *b = tape_tensor(&tape, shape2(2, 2), false);
for (int i = 0; i < 4; i++) {
    a->data[i] = (float)(i + 1);
    b->data[i] = (float)(i + 5);
}
Tensor *product = op_matmul(&tape, a, b, false, false);
char shape[32];
shape_format(product->shape, shape, sizeof shape);
printf("product %s: %g %g %g %g\n", shape,
       product->data[0], product->data[1], product->data[2], product->data[3]);
tape_free(&tape);
"""
COMPILE_ERROR_CELL = "int answer = undeclared_name + 1;\nprintf(\"%d\\n\", answer);\n"

# The second notebook: one cell per feature of the cell rules; FEATURE_CELLS[name] is its source.
FEATURE_CELLS = {
    "keep": "//%keep\n#include <unistd.h>\ndouble square(double x)\n{\n    return x * x;\n}\n",
    "keep_again": "//%keep\n#include <unistd.h>\ndouble square(double x)\n{\n"
                  "    return x * x;\n}\n",
    "use_kept": 'printf("%g\\n", square(3.0));',
    "complete_program": '#include <stdio.h>\n\nint main(void)\n{\n'
                        '    printf("complete program\\n");\n    return 0;\n}\n',
    "environment": 'char cwd[4096];\n'
                   'printf("cwd=%s\\nout=%s\\nroot=%s\\n", getcwd(cwd, sizeof cwd),\n'
                   '       getenv("NOTEBOOK_OUT"), getenv("PROJECT_ROOT"));\n',
    "stderr": 'fprintf(stderr, "to stderr\\n");',
    "gnuplot": 'int status = system("gnuplot -e \\"set terminal png size 320,240; '
               "set output 'sine.png'; plot sin(x)\\\"\");\n"
               'printf("gnuplot status %d\\n", status);\n',
    "no_new_png": 'printf("nothing drawn\\n");',
    "exit_status": 'printf("about to fail\\n");\nreturn 3;',
    "timeout": '//%timeout 1\nprintf("before the loop\\n");\nfor (;;) {\n}\n',
    "unknown_magic": "//%speed fast\nprintf(\"unreachable\\n\");",
    "reset": "//%reset",
    "kept_code_gone": 'printf("%g\\n", square(2.0));',
}


class Checker:
    """Collects named checks and prints each result."""

    def __init__(self):
        self.failures = 0

    def expect(self, name, condition, detail=""):
        print(f"{'ok  ' if condition else 'FAIL'} {name}" + ("" if condition else f": {detail}"))
        if not condition:
            self.failures += 1


def write_kernel_spec(jupyter_path):
    """Write the repository's kernel.json, filled in, under jupyter_path/kernels/."""
    spec_dir = jupyter_path / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    text = (KERNEL_DIR / "kernel.json").read_text()
    text = text.replace("@PYTHON@", sys.executable).replace("@KERNEL_DIR@", str(KERNEL_DIR))
    json.loads(text)  # the filled-in template must still be valid JSON
    (spec_dir / "kernel.json").write_text(text)


def execute(sources, working_dir):
    """Execute a notebook of code cells; return (cells, replies), replies[i] the execute_reply."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "C (derivation)",
                                       "language": "c"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    replies = {}

    def record_reply(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply["content"]

    client = NotebookClient(notebook, kernel_name=KERNEL_NAME, timeout=300, allow_errors=True,
                            resources={"metadata": {"path": str(working_dir)}},
                            on_cell_executed=record_reply)
    client.execute()
    return notebook.cells, replies


def stream_text(cell, name):
    return "".join(output["text"] for output in cell.outputs
                   if output["output_type"] == "stream" and output["name"] == name)


def errors(cell):
    return [output for output in cell.outputs if output["output_type"] == "error"]


def images(cell):
    return [base64.b64decode(output["data"]["image/png"]) for output in cell.outputs
            if output["output_type"] == "display_data" and "image/png" in output["data"]]


def expect_ok(check, name, cell, reply):
    check.expect(f"{name}: reply status ok", reply.get("status") == "ok", reply)
    check.expect(f"{name}: no error output", not errors(cell), errors(cell))


def expect_error(check, name, cell, reply, ename, evalue_parts):
    """Check that a cell failed with ename and that its message names each of evalue_parts."""
    check.expect(f"{name}: reply status error", reply.get("status") == "error", reply)
    check.expect(f"{name}: reply ename {ename}", reply.get("ename") == ename, reply.get("ename"))
    error_outputs = errors(cell)
    check.expect(f"{name}: one error output", len(error_outputs) == 1, error_outputs)
    if error_outputs:
        error = error_outputs[0]
        check.expect(f"{name}: error output ename {ename}", error["ename"] == ename,
                     error["ename"])
        for part in evalue_parts:
            check.expect(f"{name}: message contains '{part}'", part in error["evalue"],
                         error["evalue"])


def check_two_cell_notebook(check, working_dir):
    cells, replies = execute([LIBRARY_CELL, COMPILE_ERROR_CELL], working_dir)

    expect_ok(check, "library cell", cells[0], replies[0])
    check.expect("library cell: prints the product computed by op_matmul",
                 stream_text(cells[0], "stdout") == "product [2, 2]: 19 22 43 50\n",
                 repr(stream_text(cells[0], "stdout")))

    # The cell is the second one executed, so the compiler names it In[2], line 1.
    expect_error(check, "compile error cell", cells[1], replies[1], "CompileError",
                 ["undeclared_name", "In[2]:1:", "error"])
    check.expect("compile error cell: nothing runs", not stream_text(cells[1], "stdout"),
                 repr(stream_text(cells[1], "stdout")))


def check_feature_notebook(check, working_dir):
    names = list(FEATURE_CELLS)
    cells, replies = execute(list(FEATURE_CELLS.values()), working_dir)
    cell = {name: cells[index] for index, name in enumerate(names)}
    reply = {name: replies[index] for index, name in enumerate(names)}

    for name in ("keep", "keep_again", "use_kept", "complete_program", "environment", "stderr",
                 "gnuplot", "no_new_png", "reset"):
        expect_ok(check, name, cell[name], reply[name])

    check.expect("keep: a kept cell prints nothing", not cell["keep"].outputs,
                 cell["keep"].outputs)
    check.expect("use_kept: calls the kept function",
                 stream_text(cell["use_kept"], "stdout") == "9\n",
                 repr(stream_text(cell["use_kept"], "stdout")))
    check.expect("complete_program: runs its own main",
                 stream_text(cell["complete_program"], "stdout") == "complete program\n",
                 repr(stream_text(cell["complete_program"], "stdout")))
    check_environment(check, stream_text(cell["environment"], "stdout"), working_dir)
    check.expect("stderr: goes to the stderr stream",
                 stream_text(cell["stderr"], "stderr") == "to stderr\n",
                 repr(stream_text(cell["stderr"], "stderr")))

    check.expect("gnuplot: gnuplot exits 0",
                 stream_text(cell["gnuplot"], "stdout") == "gnuplot status 0\n",
                 repr(stream_text(cell["gnuplot"], "stdout")) + " (is gnuplot installed?)")
    pngs = images(cell["gnuplot"])
    check.expect("gnuplot: one PNG displayed", len(pngs) == 1, f"{len(pngs)} images")
    check.expect("gnuplot: the display is a PNG file",
                 bool(pngs) and pngs[0].startswith(PNG_SIGNATURE), pngs[:1])
    check.expect("no_new_png: an unchanged PNG is not shown again",
                 not images(cell["no_new_png"]), f"{len(images(cell['no_new_png']))} images")

    expect_error(check, "exit_status", cell["exit_status"], reply["exit_status"], "RuntimeError",
                 ["status 3"])
    check.expect("exit_status: output before the exit is shown",
                 stream_text(cell["exit_status"], "stdout") == "about to fail\n",
                 repr(stream_text(cell["exit_status"], "stdout")))
    expect_error(check, "timeout", cell["timeout"], reply["timeout"], "TimeoutError",
                 ["1 s", "//%timeout"])
    # The program is killed, so this line arrives only because stdout is line-buffered.
    check.expect("timeout: output before the limit is shown",
                 stream_text(cell["timeout"], "stdout") == "before the loop\n",
                 repr(stream_text(cell["timeout"], "stdout")))
    expect_error(check, "unknown_magic", cell["unknown_magic"], reply["unknown_magic"],
                 "MagicError", ["//%speed"])
    expect_error(check, "kept_code_gone", cell["kept_code_gone"], reply["kept_code_gone"],
                 "CompileError", ["square"])


def check_environment(check, printed, working_dir):
    """Check the directory and variables a cell's program runs with."""
    values = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    out = values.get("out", "")
    check.expect("environment: NOTEBOOK_OUT is an absolute path", out.startswith("/"), printed)
    check.expect("environment: the program runs in NOTEBOOK_OUT", values.get("cwd") == out,
                 printed)
    check.expect("environment: NOTEBOOK_OUT is not the kernel's current directory",
                 out != str(working_dir), printed)
    check.expect("environment: PROJECT_ROOT is the repository",
                 values.get("root") == str(PROJECT_ROOT), printed)


def main():
    check = Checker()
    with tempfile.TemporaryDirectory() as temp:
        jupyter_path = Path(temp) / "jupyter"
        working_dir = Path(temp) / "kernel-cwd"
        working_dir.mkdir()
        write_kernel_spec(jupyter_path)
        os.environ["JUPYTER_PATH"] = str(jupyter_path)

        check_two_cell_notebook(check, working_dir)
        check_feature_notebook(check, working_dir)

    if check.failures:
        print(f"check_kernel: {check.failures} checks failed")
        return 1
    print("check_kernel: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
