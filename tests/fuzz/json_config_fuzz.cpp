// libFuzzer target: the JSON config reader (io/json_config.hpp) on arbitrary
// text, read as a data config (data/data_config.hpp). Anything but a config
// or a vgt::Error is a finding, and so is a config that does not survive
// being written and read back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <vgt/data/data_config.hpp>
#include <vgt/io/json_config.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    vgt::data::DataConfig config;
    try {
        config = vgt::data::data_config_from_json(vgt::io::parse_json_config(text, "fuzz"), "data");
    } catch (const vgt::Error&) {
        return 0;
    }
    const nlohmann::json written = vgt::io::options_to_json(config);
    const nlohmann::json again = vgt::io::options_to_json(
        vgt::data::data_config_from_json(vgt::io::parse_json_config(written.dump(), "round trip"), "data"));
    if (again != written) std::abort();
    return 0;
}
