"""What a share image costs: one 1080×1080 image, and a whole kit of 18 images.

`.venv/bin/python bench/kit_render.py` (or `--help`). It sets up Django on a throw-away
data folder and renders, in this one process, with realistic content: the founding
scenario's petition in English, Dari and Pashto, a transparent PNG logo and a
12-megapixel JPEG photo, in each layout (bold, photo, minimal).

Measured, per layout:
- the very first kit in a fresh process (fonts and character maps loaded, uploads
  decoded, backgrounds painted), then a first kit after a design change (fonts
  already loaded, uploads decoded and backgrounds painted again);
- one square image (1080×1080, PNG bytes out) again and again, with the count
  changing every time as it does live: min, median and p95, and the median of its
  parts (laying out the text, painting, PNG encoding);
- the median image of each size;
- whole kits (6 sizes × 3 languages), as the kit zip makes them.

Goals (issue 5): one 1080×1080 image under 50 ms, a whole kit under 2 s, on the
2-core machine. Results are printed and written to bench/results/kit_render.json.
"""

import argparse
import io
import json
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
GOAL_IMAGE_MS = 50
GOAL_KIT_S = 2.0

TITLES = {
    "en": "Ask the company to suspend the Taliban's accounts",
    "fa": "از شرکت بخواهید حساب‌های طالبان را مسدود کند",
    "ps": "له شرکت وغواړئ چې د طالبانو حسابونه بند کړي",
}
CAMPAIGNS = {"en": "Afghan Voices Coalition", "fa": "ائتلاف صدای افغان", "ps": "د افغان غږ ائتلاف"}
ACTIONS = {"en": "Sign the petition", "fa": "دادخواست را امضا کنید", "ps": "غوښتنلیک لاسلیک کړئ"}


def setup_django(data_dir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "hamseda.settings"
    os.environ["HAMSEDA_DATA_DIR"] = str(data_dir)
    os.environ["HAMSEDA_SECRET_KEY"] = secrets.token_urlsafe(48)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def logo_png() -> bytes:
    """An 800-pixel transparent logo: a ring and a bar, with transparent margins."""
    from PIL import Image, ImageDraw

    logo = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((100, 100, 700, 700), fill=(242, 193, 78, 255))
    draw.ellipse((260, 260, 540, 540), fill=(0, 0, 0, 0))
    draw.rectangle((380, 40, 420, 760), fill=(255, 255, 255, 230))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    return buffer.getvalue()


def photo_jpeg() -> bytes:
    """A 4032×3024 JPEG (a phone's 12 megapixels) that compresses like a photo: a sky
    gradient, clouds at three scales and sensor grain."""
    from PIL import Image, ImageChops

    size = (4032, 3024)
    ramp = Image.linear_gradient("L").resize(size)
    image = Image.merge(
        "RGB",
        (
            ramp.point(lambda v: 90 + v // 3),
            ramp.point(lambda v: 120 + v // 4),
            ramp.point(lambda v: 200 - v // 3),
        ),
    )
    for scale, amount in ((64, 0.5), (16, 0.3), (4, 0.15)):
        small = (size[0] // scale + 1, size[1] // scale + 1)
        clouds = Image.effect_noise(small, 80).resize(size, Image.Resampling.BICUBIC)
        image = Image.blend(image, clouds.convert("RGB"), amount)
    grain = Image.effect_noise(size, 10).convert("RGB")
    image = ImageChops.add(image, grain, offset=-128)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def contents(count: int) -> dict:
    from hamseda.kit.design import Content
    from hamseda.kit.numbers import display_count

    shown, exact = display_count(count)
    return {
        language: Content(
            language=language,
            title=TITLES[language],
            hashtags=("#BanTaliban", "#AfghanWomen"),
            count=shown,
            count_is_exact=exact,
            url=f"https://hamseda.example.org/{'' if language == 'en' else language + '/'}"
            f"p/suspend-taliban-accounts/?s=kit.q7Xk2",
            campaign_name=CAMPAIGNS[language],
            call_to_action=ACTIONS[language],
        )
        for language in ("en", "fa", "ps")
    }


def summary(seconds: list[float]) -> dict:
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "n": len(ms),
        "min_ms": round(ms[0], 1),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(p95, 1),
    }


def kit(render, design, words) -> tuple[float, float, int]:
    """Render the 18 images of a kit: wall seconds, CPU seconds, bytes."""
    from hamseda.kit.design import SIZES

    wall, cpu, total = time.perf_counter(), time.process_time(), 0
    for language in ("en", "fa", "ps"):
        for size_name in SIZES:
            total += len(render.render_png(size_name, words[language], design))
    return time.perf_counter() - wall, time.process_time() - cpu, total


def bench_layout(layout_name: str, logo: bytes, photo: bytes, options) -> dict:
    from hamseda.kit import render
    from hamseda.kit.design import SIZES, Design

    design = Design(layout=layout_name, logo=logo, background=photo, eastern_digits=True)
    words = contents(41872)
    report: dict = {"layout": layout_name}

    render.clear_caches()
    wall, cpu, size = kit(render, design, words)
    report["kit_after_design_change_s"] = round(wall, 3)

    # One square image, over and over, the count changing as signatures come in.
    timings, cpu_t, layout_t, paint_t, encode_t, sizes = [], [], [], [], [], []
    for round_ in range(options.rounds):
        language = ("en", "fa", "ps")[round_ % 3]
        content = contents(41872 + 37 * round_)[language]
        started, cpu = time.perf_counter(), time.process_time()
        png = render.render_png("square", content, design)
        timings.append(time.perf_counter() - started)
        cpu_t.append(time.process_time() - cpu)
        sizes.append(len(png))
        # The same image again, in parts.
        t0 = time.perf_counter()
        render.layout("square", content, design)
        t1 = time.perf_counter()
        image = render.render("square", content, design)
        t2 = time.perf_counter()
        image.save(io.BytesIO(), "PNG", **render.PNG_OPTIONS)
        t3 = time.perf_counter()
        layout_t.append(t1 - t0)
        paint_t.append(t2 - t1 - (t1 - t0))
        encode_t.append(t3 - t2)
    report["square"] = summary(timings)
    report["square"]["cpu_median_ms"] = round(1000 * statistics.median(cpu_t), 1)
    report["square"]["png_kib"] = round(statistics.median(sizes) / 1024, 1)
    report["square_parts_median_ms"] = {
        "layout": round(1000 * statistics.median(layout_t), 1),
        "paint": round(1000 * statistics.median(paint_t), 1),
        "png_encode": round(1000 * statistics.median(encode_t), 1),
    }

    per_size = {}
    for size_name in SIZES:
        seconds = []
        for round_ in range(max(3, options.rounds // 6)):
            content = contents(41872 + round_)[("en", "fa", "ps")[round_ % 3]]
            started = time.perf_counter()
            png = render.render_png(size_name, content, design)
            seconds.append(time.perf_counter() - started)
        per_size[size_name] = {
            "median_ms": round(1000 * statistics.median(seconds), 1),
            "png_kib": round(len(png) / 1024, 1),
        }
    report["per_size"] = per_size

    walls, cpus = [], []
    for _ in range(options.kits):
        wall, cpu, size = kit(render, design, contents(41872 + random.randint(0, 999)))
        walls.append(wall)
        cpus.append(cpu)
    report["kit"] = {
        "n": len(walls),
        "min_s": round(min(walls), 3),
        "median_s": round(statistics.median(walls), 3),
        "max_s": round(max(walls), 3),
        "cpu_median_s": round(statistics.median(cpus), 3),
        "mib": round(size / 1024 / 1024, 2),
    }
    report["meets_image_goal"] = report["square"]["median_ms"] < GOAL_IMAGE_MS
    report["meets_kit_goal"] = report["kit"]["median_s"] < GOAL_KIT_S
    return report


def machine() -> dict:
    import PIL
    from PIL import features

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        "unknown",
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "pillow": PIL.__version__,
        "raqm": features.version("raqm"),
        "harfbuzz": features.version("harfbuzz"),
        "fribidi": features.version("fribidi"),
        "zlib": features.version("zlib"),
    }


def loadavg() -> float:
    return float(os.getloadavg()[0])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60, help="square images per layout")
    parser.add_argument("--kits", type=int, default=5, help="whole kits per layout")
    parser.add_argument("--layouts", default="bold,photo,minimal")
    parser.add_argument("--output", type=Path, default=RESULTS / "kit_render.json")
    options = parser.parse_args(argv)
    options.layouts = [name.strip() for name in options.layouts.split(",") if name.strip()]
    if not 3 <= options.rounds <= 10_000 or not 1 <= options.kits <= 100:
        parser.error("--rounds 3-10000, --kits 1-100")
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="hamseda-bench-kit-") as data_dir:
        setup_django(Path(data_dir))
        from hamseda.kit import render
        from hamseda.kit.design import Design

        logo, photo = logo_png(), photo_jpeg()
        load_before = loadavg()
        # The first kit of a fresh process: fonts, character maps, uploads, backgrounds.
        first_design = Design(layout=options.layouts[0], logo=logo, background=photo)
        first_wall, _cpu, _size = kit(render, first_design, contents(41872))
        reports = [bench_layout(name, logo, photo, options) for name in options.layouts]
        load_after = loadavg()
    result = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": {"before": load_before, "after": load_after},
        "options": {"rounds": options.rounds, "kits": options.kits},
        "inputs": {"logo_png_kib": len(logo) // 1024, "photo_jpeg_kib": len(photo) // 1024},
        "goals": {"image_ms": GOAL_IMAGE_MS, "kit_s": GOAL_KIT_S},
        "first_kit_in_fresh_process_s": round(first_wall, 3),
        "layouts": reports,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

    print(f"First kit in a fresh process: {first_wall:.2f} s (load {load_before:.1f})")
    print(
        "\n| layout | 1080² min / median / p95 ms (CPU) | layout + paint + PNG ms "
        "| kit median s (CPU s) | first kit after a design change s | goals |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for report in reports:
        square, parts, whole = report["square"], report["square_parts_median_ms"], report["kit"]
        goals = (
            ("yes" if report["meets_image_goal"] else "**no**")
            + " / "
            + ("yes" if report["meets_kit_goal"] else "**no**")
        )
        print(
            f"| {report['layout']} | {square['min_ms']} / {square['median_ms']} / "
            f"{square['p95_ms']} ({square['cpu_median_ms']}) | "
            f"{parts['layout']} + {parts['paint']} + {parts['png_encode']} | "
            f"{whole['median_s']} ({whole['cpu_median_s']}) | "
            f"{report['kit_after_design_change_s']} | {goals} |"
        )
    print(f"\nLoad average {load_before:.1f} → {load_after:.1f} (other work on the machine).")
    print(f"Written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
