// `vgt ablate --config FILE.json [--quick] [--out DIR] [--list]`: trains and
// scores the variants an ablation config names (experiment/ablation.hpp),
// then writes results.json, report.md, report.html and loss.svg.

#include <optional>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/experiment/ablation_config.hpp"
#include "vgt/experiment/ablation_report.hpp"
#include "vgt/experiment/builtin_variants.hpp"

namespace vgt::cli {

int command_ablate(Flags& flags) {
    flags.apply_threads();
    const bool list = flags.flag("list");
    const std::optional<std::string> path = flags.get("config");
    const bool quick = flags.flag("quick");
    const std::optional<std::string> out = flags.get("out");
    flags.require_all_used();
    if (list) {
        for (const std::string& name : experiment::BuiltinAblation::names()) fmt::print("{}\n", name);
        return 0;
    }
    if (!path) throw UsageError("vgt ablate: expected --config FILE.json (or --list), found neither");

    experiment::AblationConfig config = experiment::read_ablation_config(*path, quick);
    if (out) config.output_dir = *out;
    std::string command = fmt::format("vgt ablate --config {}", *path);
    if (quick) command += " --quick";
    // The reports are rewritten after every variant, so a stopped run keeps the variants it finished.
    const experiment::AblationResult result = experiment::BuiltinAblation::run(
        config, [&](const experiment::AblationResult& so_far) { experiment::write_ablation_report(so_far, command); });
    fmt::print("{} variants; report: {}/report.md (and report.html, results.json)\n", result.variants.size(),
               config.output_dir);
    return 0;
}

}  // namespace vgt::cli
