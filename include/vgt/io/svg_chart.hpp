#pragma once
// A line chart as a standalone SVG document: one polyline per series, axes
// with round tick values, a legend. Reports embed it (HTML) or link it
// (Markdown); no plotting library is needed to read an ablation's curves.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace vgt::io {

struct ChartSeries {
    std::string label;
    std::vector<double> x, y;  // same length; points with a non-finite value (or y <= 0 on a log axis) are skipped
};

struct ChartOptions {
    std::string title;
    std::string x_label, y_label;
    bool log_y = false;
    int width = 960, height = 420;
};

/// Text safe inside SVG or HTML elements and attributes.
inline std::string xml_escaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

namespace detail {

/// Tick values covering [lo, hi] at a step of 1, 2 or 5 × 10^k, about `count` of them.
inline std::vector<double> round_ticks(double lo, double hi, int count) {
    const double raw = (hi - lo) / std::max(count, 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (const double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    std::vector<double> ticks;
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push_back(v);
    return ticks;
}

inline std::string tick_text(double v) {
    if (v == 0) return "0";
    const double a = std::abs(v);
    if (a >= 1e4 || a < 1e-3) return fmt::format("{:.0e}", v);
    return fmt::format("{:g}", v);
}

}  // namespace detail

/// The series as an SVG document.
inline std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options) {
    static constexpr std::string_view kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    const auto usable = [&](double x, double y) {
        return std::isfinite(x) && std::isfinite(y) && (!options.log_y || y > 0);
    };
    const auto y_of = [&](double y) { return options.log_y ? std::log10(y) : y; };
    double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
    for (const ChartSeries& s : series)
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
            if (usable(s.x[i], s.y[i])) {
                x_lo = std::min(x_lo, s.x[i]);
                x_hi = std::max(x_hi, s.x[i]);
                y_lo = std::min(y_lo, y_of(s.y[i]));
                y_hi = std::max(y_hi, y_of(s.y[i]));
            }
    if (!(x_lo <= x_hi)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;  // nothing to draw: empty axes
    if (x_hi == x_lo) x_hi = x_lo + 1;
    if (y_hi == y_lo) y_lo -= 0.5, y_hi += 0.5;
    const double pad = (y_hi - y_lo) * 0.05;
    y_lo -= pad;
    y_hi += pad;

    const double left = 70, right = 300, top = 36, bottom = 50;  // the legend sits on the right
    const double plot_w = options.width - left - right, plot_h = options.height - top - bottom;
    const auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * plot_w; };
    const auto py = [&](double y) { return top + (1 - (y - y_lo) / (y_hi - y_lo)) * plot_h; };

    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        options.width, options.height);
    svg += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\">{}</text>\n", left, xml_escaped(options.title));
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", left,
                       top, plot_w, plot_h);
    for (const double t : detail::round_ticks(x_lo, x_hi, 6)) {
        svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#ddd\"/>\n", px(t), top,
                           top + plot_h);
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(t), top + plot_h + 16,
                           detail::tick_text(t));
    }
    std::vector<double> y_ticks;
    if (options.log_y) {
        for (double e = std::floor(y_lo); e <= std::ceil(y_hi); e += 1)
            for (const double m : {1.0, 2.0, 5.0}) {
                const double v = e + std::log10(m);
                if (v >= y_lo && v <= y_hi) y_ticks.push_back(v);
            }
    } else {
        y_ticks = detail::round_ticks(y_lo, y_hi, 5);
    }
    for (const double t : y_ticks) {
        svg += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", left,
                           left + plot_w, py(t), py(t));
        svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6, py(t) + 4,
                           detail::tick_text(options.log_y ? std::pow(10.0, t) : t));
    }
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + plot_w / 2,
                       options.height - 12, xml_escaped(options.x_label));
    svg += fmt::format(
        "<text transform=\"translate(16 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}{}</text>\n", top + plot_h / 2,
        xml_escaped(options.y_label), options.log_y ? " (log scale)" : "");

    for (std::size_t k = 0; k < series.size(); ++k) {
        const ChartSeries& s = series[k];
        const std::string_view colour = kColours[k % std::size(kColours)];
        std::string points;
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
            if (usable(s.x[i], s.y[i])) points += fmt::format("{:.1f},{:.1f} ", px(s.x[i]), py(y_of(s.y[i])));
        svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n", colour,
                           points);
        const double ly = top + 14 + 18 * static_cast<double>(k);
        svg += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" "
                           "stroke-width=\"3\"/>\n",
                           left + plot_w + 12, left + plot_w + 32, ly - 4, colour);
        svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\">{}</text>\n", left + plot_w + 38, ly, xml_escaped(s.label));
    }
    svg += "</svg>\n";
    return svg;
}

}  // namespace vgt::io
