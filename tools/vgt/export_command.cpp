// `vgt export --checkpoint CKPT --out MODEL`: a checkpoint for sampling only.
// Training state (AdamW's moments, the EMA copy, the loss scaler) is three
// times the size of the weights; a model that is shipped or shared needs
// none of it, only the weights it samples with.

#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/core/random.hpp"
#include "vgt/experiment/checkpoint.hpp"
#include "vgt/nn/parameters.hpp"

namespace vgt::cli {

int command_export(Flags& flags) {
    flags.apply_threads();
    const std::string path = flags.required("checkpoint");
    const std::string out = flags.required("out");
    const bool training_weights = flags.flag("no-ema");
    flags.require_all_used();

    experiment::Checkpoint checkpoint = experiment::read_checkpoint(path);
    const bool ema = !training_weights && experiment::use_ema_weights(checkpoint);
    experiment::write_checkpoint(out, checkpoint.model, checkpoint.step, checkpoint.rng);
    fmt::print("{}: the {} weights of step {} ({} parameters), config and tokenizer; no training state\n", out,
               ema ? "EMA" : training_weights ? "training" : "stored", checkpoint.step,
               nn::count_parameters(checkpoint.model));
    return 0;
}

}  // namespace vgt::cli
