// `vgt train --config FILE.json`: trains a text-to-video model as the
// config describes (docs/training.md), resuming from the output directory's
// checkpoint when there is one.

#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/experiment/trainer.hpp"

namespace vgt::cli {

int command_train(Flags& flags) {
    flags.apply_threads();
    const std::string path = flags.required("config");
    flags.require_all_used();

    experiment::Trainer trainer(experiment::read_train_config(path));
    const experiment::TrainConfig& config = trainer.config();
    const experiment::UNetModel& unet = trainer.model().unet();
    fmt::print("model {} ({} UNet parameters, vocabulary of {} tokens), output {}\n", config.model, unet.params(),
               trainer.model().tokenizer().size(), config.training.output_dir);
    if (trainer.step() > 0)
        fmt::print("resuming from step {} of {} ({})\n", trainer.step(), config.training.steps,
                   trainer.checkpoint_path());
    const experiment::TrainResult result = trainer.run();
    fmt::print("trained to step {}; checkpoint {}\n", result.last_step, result.checkpoint);
    return 0;
}

}  // namespace vgt::cli
