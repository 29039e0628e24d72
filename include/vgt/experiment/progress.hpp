#pragma once
// Training progress on a terminal: one bar redrawn in place,
//
//   [#########...........]  450/1000  loss 0.0831  3.2 it/s  ETA 2m52s
//
// A run with a time budget (training.max_seconds) passes the seconds it has
// left, and the ETA is the sooner of the two ends ("ETA 1m10s (time limit)").
// or, when the stream is not a terminal (a log file, CI), one plain line per
// update, so that logs stay readable.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

namespace vgt::experiment {

enum class ProgressStyle { bar, lines, off };

/// Whether `stream` is a terminal.
inline bool is_terminal(std::FILE* stream) {
#if defined(_WIN32)
    return _isatty(_fileno(stream)) != 0;
#else
    return ::isatty(::fileno(stream)) != 0;
#endif
}

/// "auto" (a bar on a terminal, lines otherwise), "lines" or "off".
inline ProgressStyle progress_style(const std::string& name, std::FILE* stream) {
    if (name == "off") return ProgressStyle::off;
    if (name == "lines") return ProgressStyle::lines;
    return is_terminal(stream) ? ProgressStyle::bar : ProgressStyle::lines;
}

/// "1h02m03s", "2m52s", "7s".
inline std::string format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e8) return "?";
    const auto s = static_cast<std::int64_t>(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

class ProgressBar {
public:
    /// Steps [first, total) are to run; the rate counts from construction.
    ProgressBar(std::int64_t first, std::int64_t total, ProgressStyle style, std::FILE* stream = stderr)
        : first_(first), total_(total), style_(style), stream_(stream), start_(std::chrono::steady_clock::now()) {}

    /// After `done` steps in all (first ≤ done ≤ total), with the last loss
    /// and, for a run with a time budget, the seconds of it left (< 0: none).
    void update(std::int64_t done, double loss, double seconds_left = -1.0) {
        if (style_ == ProgressStyle::off) return;
        std::fputs(line(done, loss, seconds_left).c_str(), stream_);
        std::fputs(style_ == ProgressStyle::bar ? "\r" : "\n", stream_);
        std::fflush(stream_);
        drawn_ = style_ == ProgressStyle::bar;
    }

    /// Ends the bar's line.
    void finish() {
        if (drawn_) std::fputs("\n", stream_);
        drawn_ = false;
    }

    /// The text of one update.
    std::string line(std::int64_t done, double loss, double seconds_left = -1.0) const {
        const double elapsed = seconds();
        const double rate = done > first_ && elapsed > 0 ? static_cast<double>(done - first_) / elapsed : 0.0;
        double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
        const bool time_bound = seconds_left >= 0 && (eta < 0 || seconds_left < eta);
        if (time_bound) eta = seconds_left;
        std::string bar;
        if (style_ == ProgressStyle::bar) {
            constexpr int width = 24;
            const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
            bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                  std::string(static_cast<std::size_t>(width - filled), '.') + "] ";
        }
        return fmt::format("{}{}/{}  loss {:.4f}  {:.2f} it/s  ETA {}{}", bar, done, total_, loss, rate,
                           format_duration(eta), time_bound ? " (time limit)" : "");
    }

    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::int64_t first_, total_;
    ProgressStyle style_;
    std::FILE* stream_;
    std::chrono::steady_clock::time_point start_;
    bool drawn_ = false;
};

}  // namespace vgt::experiment
