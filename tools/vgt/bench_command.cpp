// `vgt bench blocks`: vgt's own forward and forward+backward times of the
// temporal blocks at any video shape. The cases and the timing loop are the
// library's (vgt/bench/), the same that benchmarks/run-blocks compares with
// PyTorch, so a --json record here reads like one of vgt_bench_blocks.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/bench/block_cases.hpp"
#include "vgt/bench/timing.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"

namespace vgt::cli {

namespace {

/// `--block a,b,c`: Flags keeps one value per flag, so several blocks come as one list.
std::vector<std::string> split_names(const std::string& list) {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        names.push_back(list.substr(start, comma - start));
        start = comma + 1;
    }
    return names;
}

/// The cases that `--block` names (all when absent); an unknown name is an
/// error listing the valid ones, raised before anything is timed.
std::vector<bench::BenchCase> selected_cases(const std::optional<std::string>& block_list, const Shape& video) {
    if (!block_list) return bench::block_cases(video);
    const std::vector<std::string> valid = bench::block_case_names();
    const std::vector<std::string> names = split_names(*block_list);
    for (const std::string& name : names)
        if (std::find(valid.begin(), valid.end(), name) == valid.end())
            throw Error(fmt::format("vgt bench blocks: expected --block names among {}, found '{}'",
                                    fmt::join(valid, ", "), name));
    std::vector<bench::BenchCase> cases;
    for (const std::string& name : names) cases.push_back(bench::block_case(name, video));
    return cases;
}

std::string summary_text(const std::vector<double>& samples_ms) {
    if (samples_ms.empty()) return "-";
    const bench::TimingSummary s = bench::summarize(samples_ms);
    return fmt::format("{:.3f} ({:.3f}–{:.3f})", s.median_ms, s.min_ms, s.max_ms);
}

}  // namespace

int command_bench_blocks(Flags& flags) {
    const Shape video = parse_shape(flags.text("shape", "2,8,64,32,32"));
    const std::optional<std::string> block_list = flags.get("block");
    bench::TimingOptions timing;
    constexpr std::int64_t most_calls = 1'000'000;  // keeps the counts within an int
    timing.min_reps = static_cast<int>(std::min(flags.integer("reps", 5, 1), most_calls));
    timing.warmup = static_cast<int>(std::min(flags.integer("warmup", 1, 0), most_calls));
    timing.min_seconds = flags.number("min-time").value_or(0.5);
    if (timing.min_seconds < 0)
        throw UsageError(fmt::format("vgt: expected a number ≥ 0 for --min-time, found {}", timing.min_seconds));
    const bool as_json = flags.flag("json");
    flags.apply_threads();
    flags.require_all_used();

    const std::vector<bench::BenchCase> cases = selected_cases(block_list, video);
    std::vector<bench::CaseTiming> timings;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        fmt::print(stderr, "vgt bench blocks: [{}/{}] {}\n", i + 1, cases.size(), cases[i].name);
        timings.push_back(bench::time_case(cases[i], timing, "vgt bench blocks"));
        if (as_json) {  // records as they come, like vgt_bench_blocks
            fmt::print("{}\n", bench::json_record(cases[i], timings.back()));
            std::fflush(stdout);
        }
    }
    if (as_json) return 0;

    fmt::print("Blocks on a video [B, T, C, H, W] = {}, float32, {} threads: milliseconds per call, median (min–max) "
               "over at least {} calls; GFLOP/s at the forward median\n\n",
               video, num_threads(), timing.min_reps);
    fmt::print("| block | forward ms | fwd+bwd ms | forward GFLOP/s |\n| --- | ---: | ---: | ---: |\n");
    for (std::size_t i = 0; i < cases.size(); ++i)
        fmt::print("| {} | {} | {} | {:.1f} |\n", cases[i].name, summary_text(timings[i].fwd),
                   summary_text(timings[i].fwd_bwd), bench::gflops_per_second(cases[i].flops, timings[i].fwd));
    for (const bench::BenchCase& c : cases)
        if (c.name == "spatiotemporal_attention" &&
            std::max(video[3], video[4]) > bench::spatiotemporal_max_side)
            fmt::print("\n{} runs on smaller frames, its attention scores grow as (T·H·W)²: {}\n", c.name, c.description);
    return 0;
}

}  // namespace vgt::cli
