"""The installed llama.cpp CPU library runs on any machine of its architecture.

Why this test exists: llama-cpp-python builds llama.cpp with ``GGML_NATIVE=ON`` (``-march=native``)
unless told otherwise. On a CPU that advertises AMX or AVX-512 the library then uses those
instructions wherever it is run. A fresh install on a 2-core VM answered every chat request with
a 502: the engine died with a protection fault at an AMX ``ldtilecfg`` in
``ggml_backend_amx_mul_mat`` — the CPU advertised AMX, the hypervisor did not grant the tile
state. Suites passed on the machine that built it, whose CPU differed. ``scripts/install-local-engine``
therefore pins a portable baseline (x86-64: AVX2, FMA, F16C, BMI2 — no AVX-512, no AVX-VNNI, no AMX;
aarch64: armv8-a). This test reads the library ``make install`` put into the venv and fails if
it was built for more than that:

- ggml's own compile-time feature report (``llama_print_system_info``) lists no feature above the
  baseline;
- the disassembly (``objdump -d``; binutils comes with the gcc the build needs) has no AVX-512
  (zmm or opmask registers, EVEX-only xmm16-31/ymm16-31), no VNNI dot products, no AMX tile
  instructions;
- the files do not carry ``-march=native`` in a recorded command line.

A compiler flag itself cannot be read back from an optimised binary; what ``-march=native`` does
leave, on any CPU newer than the baseline, is instructions above it — which is what is checked.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

llama_cpp = pytest.importorskip("llama_cpp")

X86_ABOVE_BASELINE = {
    "AVX-512 register (zmm)": re.compile(r"%zmm\d+"),
    "AVX-512 opmask register": re.compile(r"%k[0-7]\b"),
    "AVX-512-only register (xmm/ymm 16-31)": re.compile(r"%[xy]mm(1[6-9]|2\d|3[01])\b"),
    "VNNI dot product (AVX-VNNI / AVX512-VNNI)": re.compile(r"\bvpdp(bus|ws)ds?\b"),
    "BF16 instruction (AVX512-BF16 / AVX-NE-CONVERT)": re.compile(r"\b(vdpbf16ps|vcvtne2?ps2bf16)\b"),
    "AMX tile instruction": re.compile(
        r"\b(ldtilecfg|sttilecfg|tileloadd(t1)?|tilestored|tilezero|tilerelease|tdpb[su][su]d|tdpbf16ps|tdpfp16ps)\b"
    ),
}
# Names in ggml's "CPU : ..." report (ggml-cpu.c, ggml_backend_cpu_get_features) above each baseline.
FEATURES_ABOVE_BASELINE = {
    "x86_64": re.compile(r"^(AVX512.*|AVX_VNNI|AMX.*|AVX10.*)$"),
    "aarch64": re.compile(r"^(SVE.*|SME.*|MATMUL_INT8|DOTPROD)$"),
}


def machine() -> str:
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())


x86_only = pytest.mark.skipif(
    machine() != "x86_64", reason="the instruction scan knows x86-64; the feature report covers other machines"
)


def cpu_libraries() -> list[Path]:
    libraries = sorted(Path(llama_cpp.__file__).parent.glob("lib/libggml-cpu*.so"))
    assert libraries, f"no libggml-cpu*.so in {Path(llama_cpp.__file__).parent / 'lib'}"
    return libraries


def compiled_features() -> list[str]:
    report = llama_cpp.llama_print_system_info().decode()
    cpu = report.split("CPU :", 1)[1].split("\n")[0] if "CPU :" in report else report
    return [name.strip() for name, _, value in (item.partition("=") for item in cpu.split("|")) if value.strip() == "1"]


def test_ggml_reports_no_compiled_feature_above_the_baseline() -> None:
    above = FEATURES_ABOVE_BASELINE.get(machine())
    if above is None:
        pytest.skip(f"no baseline defined for {machine()}")
    features = compiled_features()
    assert "AVX2" in features or machine() != "x86_64", features  # the report was read at all
    assert [name for name in features if above.match(name)] == []


def instructions_above_baseline(library: Path) -> dict[str, tuple[int, str]]:
    """Kind of instruction -> (how many, one example line) in the x86-64 disassembly."""
    objdump = shutil.which("objdump")
    assert objdump, "objdump is missing: install binutils (it comes with gcc, which the build needs)"
    found: Counter[str] = Counter()
    examples: dict[str, str] = {}
    with subprocess.Popen(
        [objdump, "-d", "--no-show-raw-insn", str(library)], stdout=subprocess.PIPE, text=True
    ) as disassembly:
        assert disassembly.stdout is not None
        for line in disassembly.stdout:
            for kind, pattern in X86_ABOVE_BASELINE.items():
                if pattern.search(line):
                    found[kind] += 1
                    examples.setdefault(kind, line.strip())
    assert disassembly.returncode == 0
    return {kind: (count, examples[kind]) for kind, count in found.items()}


@x86_only
def test_the_cpu_library_has_no_instruction_above_the_baseline() -> None:
    for library in cpu_libraries():
        found = instructions_above_baseline(library)
        assert not found, f"{library.name} was built above the portable baseline: " + "; ".join(
            f"{count} x {kind} (e.g. {example!r})" for kind, (count, example) in found.items()
        )


@x86_only
def test_the_scan_recognises_amx_and_avx512_as_objdump_prints_them(tmp_path: Path) -> None:
    """This machine's build may hold no AMX to find: assemble some, so the patterns are proven."""
    source = tmp_path / "above.s"
    source.write_text(
        ".text\n.globl f\nf:\n ldtilecfg (%rdi)\n tileloadd (%rsi,%rdx,1), %tmm0\n"
        " tdpbssd %tmm2, %tmm1, %tmm0\n tilerelease\n vpaddd %zmm1, %zmm2, %zmm3{%k1}\n"
        " {vex} vpdpbusd %ymm1, %ymm2, %ymm3\n vdpbf16ps %ymm17, %ymm18, %ymm19\n ret\n"
    )
    library = tmp_path / "libabove.so"
    subprocess.run(["gcc", "-shared", "-nostdlib", "-o", str(library), str(source)], check=True)
    assert set(instructions_above_baseline(library)) == set(X86_ABOVE_BASELINE)


def test_no_library_records_a_native_build() -> None:
    for library in Path(llama_cpp.__file__).parent.glob("lib/lib*.so"):
        assert b"-march=native" not in library.read_bytes(), library.name
