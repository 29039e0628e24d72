#pragma once
// The vgt program's commands. Each lives in its own translation unit, so
// the program builds in parallel and a command's templates compile once.

#include "flags.hpp"

namespace vgt::cli {

int command_info(Flags& flags);          // info_command.cpp
int command_bench_blocks(Flags& flags);  // bench_command.cpp
int command_blocks(Flags& flags);     // blocks_command.cpp
int command_block_run(Flags& flags);  // blocks_command.cpp
int command_data_preview(Flags& flags);  // data_command.cpp
int command_metrics(Flags& flags);       // metrics_command.cpp
int command_flow(Flags& flags);          // flow_command.cpp
int command_train(Flags& flags);         // train_command.cpp
int command_sample(Flags& flags);        // sample_command.cpp
int command_edit(Flags& flags);          // edit_command.cpp
int command_evaluate(Flags& flags);      // evaluate_command.cpp
int command_export(Flags& flags);        // export_command.cpp
int command_ablate(Flags& flags);        // ablate_command.cpp

}  // namespace vgt::cli
