"""The chart: per echo case, each contender's server CPU per request and
requests/s, relative to raw epoll (1.0 = raw epoll), median bars with
min-max whiskers. The CPU panel is logarithmic (CPython asyncio costs up to
~50x raw epoll, the compiled loops within 2x). Plain SVG, no dependencies,
escaped text."""
import math
from xml.sax.saxutils import escape

COLORS = ["#555555", "#1f77b4", "#6baed6", "#9ecae1", "#2ca02c", "#ff7f0e", "#9467bd", "#d62728", "#8c564b"]


def _panel(results, key, title, y0, width, height, log=False):
    cases = list(results["echo"].items())
    names = list(results["contenders"].keys())
    left, plot_w = 60, width - 80
    values = []
    for _, case in cases:
        base = case["contenders"]["epoll"][key]["median"]
        for n in names:
            s = case["contenders"][n][key]
            values.append(s["max"] / base)
    top = max(values + [1.0]) * 1.08
    bottom = 0.25 if log else 0.0
    out = [f'<text x="{left}" y="{y0 + 16}" font-size="14" font-weight="bold">{escape(title)}</text>']
    py0, ph = y0 + 28, height - 70

    def y(v):
        if log:
            v = max(v, bottom)
            return py0 + ph - math.log(v / bottom) / math.log(top / bottom) * ph
        return py0 + ph - v / top * ph
    ticks = [0.5 * 2 ** k for k in range(0, 12) if 0.5 * 2 ** k <= top] if log else \
        [t / 2 for t in range(0, int(top * 2) + 1)]
    for tick in ticks:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="{"#000" if tick == 1 else "#ddd"}" stroke-width="{1.5 if tick == 1 else 1}"/>')
        out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick:g}x</text>')
    group_w = plot_w / len(cases)
    bar_w = group_w * 0.8 / len(names)
    for gi, (case_name, case) in enumerate(cases):
        base = case["contenders"]["epoll"][key]["median"]
        gx = left + gi * group_w + group_w * 0.1
        for ni, n in enumerate(names):
            s = case["contenders"][n][key]
            x = gx + ni * bar_w
            med, lo, hi = s["median"] / base, s["min"] / base, s["max"] / base
            out.append(f'<rect x="{x:.1f}" y="{y(med):.1f}" width="{bar_w * 0.9:.1f}" height="{y(bottom) - y(med):.1f}" '
                       f'fill="{COLORS[ni % len(COLORS)]}"><title>{escape(n)} {escape(case_name)}: {med:.2f}x '
                       f'({s["median"]:.3g})</title></rect>')
            cx = x + bar_w * 0.45
            out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(lo):.1f}" y2="{y(hi):.1f}" stroke="#000"/>')
        out.append(f'<text x="{gx + group_w * 0.4:.1f}" y="{py0 + ph + 16}" font-size="11" '
                   f'text-anchor="middle">{escape(case_name)}</text>')
    return out


def render(results):
    width, panel_h = 1000, 330
    names = list(results["contenders"].keys())
    height = panel_h * 2 + 40 + 20 * ((len(names) + 3) // 4)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    out += _panel(results, "cpu_us_per_request",
                  "Server CPU per request, relative to raw epoll (lower is better; log scale)", 0, width, panel_h, log=True)
    out += _panel(results, "requests_per_s", "Requests/s, relative to raw epoll (higher is better)",
                  panel_h, width, panel_h)
    ly = panel_h * 2 + 10
    for i, n in enumerate(names):
        x, yy = 60 + (i % 4) * 230, ly + (i // 4) * 20
        out.append(f'<rect x="{x}" y="{yy}" width="12" height="12" fill="{COLORS[i % len(COLORS)]}"/>')
        out.append(f'<text x="{x + 18}" y="{yy + 11}" font-size="12">{escape(results["contenders"][n])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
