"""OCR accuracy and cost of each engine side by side, on the rendered pages of bench/ocr/corpus.

Usage: .venv/bin/python bench/bench_ocr.py [--engines rapidocr,tesseract] [--no-speedup] [--diff] [--corpus DIR]

``--corpus bench/ocr/heldout`` reads the held-out corpus (``make_corpus.py --set heldout``) instead.

Every page goes the way a scanned PDF goes in production: wrapped in a one-page PDF, rasterised by pdftoppm
(grey, 300 dpi) and read by the engine (:func:`evalplat.extract.core.ocr_pdf_page`). Each engine runs in a
worker process of its own, which loads the engine once (the load is reported apart) and then reads the pages
one after the other. Printed per engine:

- CER: character edit distance to the ground truth / its length, whitespace removed on both sides (layout is
  not scored; punctuation is), on the clean pages, the degraded ones and all;
- exact identifier recall by kind (names, ID numbers, case numbers, phones): an identifier counts when it
  appears character for character in the page's text with whitespace removed; "as read" on the text shown
  to the checker, "normalised" after :func:`evalplat.ocr_text.normalise_for_matching`;
- both figures twice: *without known names* (the text as the engine reads it) and *with known names* (after
  :func:`evalplat.extract.known_names.correct_known_names` with the page's planted person names, as the
  platform does with a case's parties, lawyer and judges from the case record);
- CPU seconds per page (the worker's own CPU plus its children's: pdftoppm, Tesseract) and peak memory;
- the parallel fraction of a scanned document: the pages' CPU (page jobs, shared by workers) against the
  CPU of what one job does alone (plan the PDF, assemble the pages, redact), and the speed-up Amdahl's law
  allows with 2 and 8 workers — a bound, not a measurement;
- then, for the first engine, the wall time of all pages with one and with two worker processes (the
  speed-up of a second worker: only meaningful on a machine with an idle core for it; the load average is
  printed beside it);
- with ``--diff``, where each page's text differs from its truth.

The figures depend on the machine and its load; both are printed first.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import resource
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_env import machine  # noqa: E402

#: the corpus read (``--corpus``; an environment variable, so that the spawned worker processes read it too)
CORPUS = Path(os.environ.get("EVALPLAT_OCR_BENCH_CORPUS") or Path(__file__).resolve().parent / "ocr" / "corpus")
KINDS = ("name", "id_number", "case_number", "phone")


@dataclass(frozen=True)
class Truth:
    name: str
    image: Path
    text: str
    degraded: bool
    degradations: tuple[str, ...]
    identifiers: tuple[tuple[str, str], ...]


def corpus() -> list[Truth]:
    pages = []
    for meta_path in sorted(CORPUS.glob("page-*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        pages.append(Truth(meta_path.stem, CORPUS / meta["image"],
                           meta_path.with_suffix(".txt").read_text(encoding="utf-8"),
                           bool(meta["degradations"]), tuple(meta["degradations"]),
                           tuple((i["kind"], i["text"]) for i in meta["identifiers"])))
    return pages


def squeeze(text: str) -> str:
    return "".join(text.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), two rows at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def differences(read: str, truth: str, context: int = 4) -> list[str]:
    """Where the read text differs from the truth (whitespace removed), as ``…context[truth→read]context…``."""
    import difflib

    read, truth = squeeze(read), squeeze(truth)
    out = []
    matcher = difflib.SequenceMatcher(None, truth, read, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            out.append(f"{truth[max(0, i1 - context):i1]}[{truth[i1:i2]}→{read[j1:j2]}]{truth[i2:i2 + context]}")
    return out


def known_names(page: Truth) -> list[str]:
    """The people's names the case record would know for a page: its planted names."""
    return [value for kind, value in page.identifiers if kind == "name"]


def summarise(pages: list[Truth], texts: list[str]) -> None:
    """CER and identifier recall over the clean pages, the degraded ones and all."""
    from evalplat.ocr_text import normalise_for_matching

    for label, subset in (("clean", [p for p in pages if not p.degraded]), ("degraded", [p for p in pages if p.degraded]),
                          ("all", pages)):
        index = [pages.index(p) for p in subset]
        errors = sum(edit_distance(squeeze(texts[i]), squeeze(pages[i].text)) for i in index)
        total = sum(len(squeeze(pages[i].text)) for i in index)
        planted: Counter[str] = Counter(kind for i in index for kind, _ in pages[i].identifiers)
        raw_found: Counter[str] = Counter()
        norm_found: Counter[str] = Counter()
        for i in index:
            raw_found += found(pages[i].identifiers, texts[i])
            norm_found += found(pages[i].identifiers, normalise_for_matching(texts[i])[0])
        by_kind = "  ".join(f"{kind} {norm_found[kind]}/{planted[kind]}" for kind in KINDS if planted[kind])
        print(f"{label:>8}: CER {errors / total:.2%} ({errors}/{total}); identifiers exact as read "
              f"{sum(raw_found.values())}/{sum(planted.values())} "
              f"({sum(raw_found.values()) / sum(planted.values()):.0%}), normalised "
              f"{sum(norm_found.values())}/{sum(planted.values())} "
              f"({sum(norm_found.values()) / sum(planted.values()):.0%}): {by_kind}")


def serial_cpu(pages: list[Truth], texts: list[str]) -> float:
    """CPU seconds of the parts of a scanned document's OCR that page jobs do not share: reading the PDF's
    text layers to plan its pages (the document's job), assembling the pages and redacting the document
    (the job of its last page)."""
    from pypdf import PdfWriter

    from evalplat.anonymise import redact
    from evalplat.extract.core import finish_pdf, plan_pdf

    writer = PdfWriter()
    for page in pages:
        from pypdf import PdfReader

        writer.append(PdfReader(io.BytesIO(pdf_of(page.image))))
    data = io.BytesIO()
    writer.write(data)
    known = {"person": sorted({name for page in pages for name in known_names(page)})}
    redact("预热", known)  # the anonymiser's models load once per worker, not per document
    started = _cpu()
    plan = plan_pdf(data.getvalue(), "corpus.pdf")
    result = finish_pdf([(text, "ocr", 0.0) for text in texts], plan.todo, [], ("engine", "model"))
    redact(result.text, known)
    return _cpu() - started


def pdf_of(image: Path) -> bytes:
    """The scan as a one-page 300-dpi PDF, as a scanner would deliver it."""
    from PIL import Image

    out = io.BytesIO()
    with Image.open(image) as opened:
        opened.convert("RGB").save(out, format="PDF", resolution=300)
    return out.getvalue()


# --- worker process --------------------------------------------------------------------------------
def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _config(engine: str):  # type: ignore[no-untyped-def]
    from evalplat.extract import OcrConfig

    return OcrConfig(engine=engine)


_loaded: tuple[float, str, str] = (0.0, "", "")


def warm_up(engine: str) -> None:
    """Load the engine in this worker process (the first read loads the models)."""
    global _loaded
    from evalplat.extract.core import ocr_pdf_page
    from evalplat.extract.engines import get_engine

    started = _cpu()
    ocr_pdf_page(pdf_of(corpus()[-1].image), "warm-up.pdf", 1, _config(engine))
    described = get_engine(_config(engine)).describe()
    _loaded = (_cpu() - started, described[0], described[1])


def loaded() -> tuple[float, str, str]:
    """CPU seconds of the warm-up read (engine load plus one page), the engine and its model."""
    return _loaded


def ready() -> int:
    """This worker's process id, once its engine is loaded (it holds the worker half a second)."""
    time.sleep(0.5)
    return os.getpid()


def read_page(engine: str, image: str) -> tuple[str, float, float, float]:
    """OCR one page: text, CPU seconds, wall seconds, peak memory of this process so far (MiB)."""
    from evalplat.extract.core import ocr_pdf_page

    data = pdf_of(Path(image))
    cpu, wall = _cpu(), time.perf_counter()
    text, _, _ = ocr_pdf_page(data, Path(image).name, 1, _config(engine))
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return text, cpu, wall, peak


def _pool(workers: int, engine: str) -> ProcessPoolExecutor:
    """Worker processes that each load ``engine`` before they read a page."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=warm_up, initargs=(engine,))


# --- scoring ---------------------------------------------------------------------------------------
def found(identifiers: tuple[tuple[str, str], ...], text: str) -> Counter[str]:
    flat = squeeze(text)
    return Counter(kind for kind, value in identifiers if squeeze(value) in flat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="rapidocr,tesseract")
    parser.add_argument("--no-speedup", action="store_true", help="skip the one- versus two-worker run")
    parser.add_argument("--diff", action="store_true",
                        help="print where each page's text differs from its truth: …context[truth→read]context…")
    parser.add_argument("--corpus", type=Path, help="the corpus directory (default bench/ocr/corpus)")
    args = parser.parse_args()
    if args.corpus is not None:
        global CORPUS
        CORPUS = args.corpus.resolve()
        os.environ["EVALPLAT_OCR_BENCH_CORPUS"] = str(CORPUS)
    from evalplat.extract import OcrConfig
    from evalplat.extract.engines import get_engine
    from evalplat.extract.known_names import correct_known_names
    from evalplat.ocr_text import normalise_for_matching

    print(f"machine: {machine()}")
    pages = corpus()
    degraded = [p for p in pages if p.degraded]
    print(f"corpus: {len(pages)} A4 pages at 300 dpi ({len(degraded)} degraded), "
          f"{sum(len(squeeze(p.text)) for p in pages)} characters, "
          f"{sum(len(p.identifiers) for p in pages)} planted identifiers ({CORPUS.relative_to(Path.cwd()) if CORPUS.is_relative_to(Path.cwd()) else CORPUS})")
    engines = []
    for name in args.engines.split(","):
        status = get_engine(OcrConfig(engine=name)).status()
        if status.available:
            engines.append(name)
        else:
            print(f"{name}: not available here ({status.message('en')})")
    results: dict[str, dict[str, object]] = {}
    for name in engines:
        with _pool(1, name) as pool:
            load, engine_name, model = pool.submit(loaded).result()
            started = time.perf_counter()
            reads = [pool.submit(read_page, name, str(p.image)).result() for p in pages]
            wall = time.perf_counter() - started
        results[name] = {"load": load, "engine": engine_name, "model": model, "reads": reads, "wall": wall}

    for result in results.values():
        reads = result["reads"]  # type: ignore[assignment]
        print(f"\n== {result['engine']} — {result['model']} (first read, with the engine load: {result['load']:.1f} s CPU, once per process)")
        print(f"{'page':<8} {'CER':>6} {'ids':>7} {'norm':>7} {'CPU s':>6} {'wall s':>6}  degradations")
        for page, (text, cpu, wall, _) in zip(pages, reads, strict=True):  # type: ignore[call-overload]
            truth = squeeze(page.text)
            cer = edit_distance(squeeze(text), truth) / len(truth)
            raw = sum(found(page.identifiers, text).values())
            normalised = sum(found(page.identifiers, normalise_for_matching(text)[0]).values())
            missed = [value for _, value in page.identifiers
                      if squeeze(value) not in squeeze(normalise_for_matching(text)[0])]
            print(f"{page.name:<8} {cer:6.1%} {raw:>3}/{len(page.identifiers):<3} {normalised:>3}/{len(page.identifiers):<3}"
                  f" {cpu:6.1f} {wall:6.1f}  {', '.join(page.degradations) or 'clean'}"
                  + (f"; missed: {', '.join(missed)}" if missed else ""))
            if args.diff:
                for difference in differences(text, page.text):
                    print(f"           {difference}")
        texts = [r[0] for r in reads]
        print("without known names (the text as the engine reads it):")
        summarise(pages, texts)
        corrected = [correct_known_names(text, known_names(page))[0] for page, text in zip(pages, texts, strict=True)]
        print("with known names (each page's planted person names passed as the case record's, "
              "evalplat.extract.known_names):")
        summarise(pages, corrected)
        cpus = [r[1] for r in reads]
        print(f"     CPU: {sum(cpus) / len(cpus):.1f} s per page (max {max(cpus):.1f}), "
              f"wall {result['wall'] / len(pages):.1f} s per page in one process; "
              f"peak memory {max(r[3] for r in reads):.0f} MiB")
        serial = serial_cpu(pages, corrected)
        parallel = sum(cpus)
        fraction = parallel / (parallel + serial)
        print(f"     the {len(pages)} pages as one scanned document: {parallel:.1f} s CPU in page jobs (parallel), "
              f"{serial:.2f} s in its own job and the last page's (plan the PDF, assemble, redact: serial); "
              f"parallel fraction {fraction:.3f} → Amdahl bound for 2 workers {1 / ((1 - fraction) + fraction / 2):.2f}×, "
              f"8 workers {1 / ((1 - fraction) + fraction / 8):.2f}× (a bound, not a measurement)")

    if engines and not args.no_speedup:
        name = engines[0]
        one = results[name]["wall"]
        with _pool(2, name) as pool:
            pids: set[int] = set()
            while len(pids) < 2:  # both workers loaded before the clock starts
                pids |= {f.result() for f in [pool.submit(ready) for _ in range(2)]}
            started = time.perf_counter()
            list(pool.map(read_page, [name] * len(pages), [str(p.image) for p in pages]))
            two = time.perf_counter() - started
        print(f"\n== {name}: {len(pages)} pages with 1 worker process {one:.0f} s, with 2 worker processes "
              f"{two:.0f} s: speed-up {one / two:.2f}× (load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
