// docs/config.md against the train config: every key that
// train_config_to_json(TrainConfig{}) writes is documented there under its
// full dotted path, and every dotted key its train-config section names
// exists (and every `data` key its data config section names), so the page
// can neither miss a new key nor keep a removed one.

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

#include <nlohmann/json.hpp>
#include <vgt/experiment/train_config.hpp>

namespace vgt::test::config_docs_test {

#ifndef VGT_DOCS_DIR
#error "VGT_DOCS_DIR must name the docs/ folder (tests/CMakeLists.txt defines it)"
#endif


namespace {

/// The dotted paths of a JSON document's leaves: objects recurse, arrays
/// and scalars are leaves ("diffusion.shift", "data.moving_shapes.held_out").
void flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::string>& out) {
    if (j.is_object() && !j.empty()) {
        for (const auto& [key, value] : j.items()) flatten(value, prefix.empty() ? key : prefix + "." + key, out);
        return;
    }
    out.push_back(prefix);
}

std::vector<std::string> train_config_keys() {
    std::vector<std::string> keys;
    flatten(experiment::train_config_to_json(experiment::TrainConfig{}), "", keys);
    return keys;
}

std::string read_config_doc() {
    const std::string path = std::string(VGT_DOCS_DIR) + "/config.md";
    std::ifstream in(path);
    REQUIRE(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The lines from `heading` (a whole line) up to the next heading of the
/// same or a higher level ("## ..."), or "" when the heading is missing.
std::string section(const std::string& text, const std::string& heading) {
    std::istringstream in(text);
    std::string line, out;
    bool inside = false;
    while (std::getline(in, line)) {
        if (inside && (line.rfind("## ", 0) == 0 || line.rfind("# ", 0) == 0)) break;
        if (line == heading) inside = true;
        if (inside) out += line + "\n";
    }
    return out;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

TEST_CASE("docs/config.md documents every key of the train config", "[experiment][docs]") {
    const std::vector<std::string> keys = train_config_keys();
    REQUIRE(keys.size() > 100);
    const std::string doc = read_config_doc();
    std::vector<std::string> missing;
    for (const std::string& key : keys)
        if (doc.find("`" + key + "`") == std::string::npos) missing.push_back(key);
    INFO("keys checked: " << keys.size());
    INFO("keys of train_config_to_json(TrainConfig{}) missing from docs/config.md as `key`: " << joined(missing));
    CHECK(missing.empty());
}

TEST_CASE("docs/config.md names only train config keys that exist", "[experiment][docs]") {
    const nlohmann::json defaults = experiment::train_config_to_json(experiment::TrainConfig{});
    // A key exists when it is a leaf or an object on the way to one
    // ("optim.ema" as well as "optim.ema.decay").
    std::set<std::string> known;
    for (const std::string& key : train_config_keys())
        for (std::size_t dot = key.find('.'); ; dot = key.find('.', dot + 1)) {
            known.insert(key.substr(0, dot));
            if (dot == std::string::npos) break;
        }
    std::set<std::string> top_level;
    for (const auto& [key, value] : defaults.items()) top_level.insert(key);

    const std::string text = section(read_config_doc(), "## The train config");
    REQUIRE_FALSE(text.empty());

    std::vector<std::string> unknown;
    auto check = [&](const std::string& key) {
        if (!known.contains(key) && std::find(unknown.begin(), unknown.end(), key) == unknown.end())
            unknown.push_back(key);
    };
    // Every `a.b.c` whose first part is a top-level key.
    const std::regex dotted("`([a-z][a-z0-9_]*)((\\.[a-z][a-z0-9_]*)+)`");
    std::size_t dotted_names = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), dotted); it != std::sregex_iterator(); ++it) {
        if (!top_level.contains((*it)[1].str())) continue;
        ++dotted_names;
        check((*it)[1].str() + (*it)[2].str());
    }
    // The first cell of every key table row: | `key` | default | meaning |.
    const std::regex row("^\\| `([^`]+)` \\|");
    std::size_t rows = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, row)) continue;
        ++rows;
        check(m[1].str());
    }
    // The data config section names the `data` object's keys without "data.".
    const std::string data_text = section(read_config_doc(), "## The data config");
    REQUIRE_FALSE(data_text.empty());
    std::set<std::string> data_objects;
    for (const auto& [key, value] : defaults.at("data").items()) data_objects.insert(key);
    for (auto it = std::sregex_iterator(data_text.begin(), data_text.end(), dotted); it != std::sregex_iterator();
         ++it) {
        if (!data_objects.contains((*it)[1].str())) continue;
        ++dotted_names;
        check("data." + (*it)[1].str() + (*it)[2].str());
    }
    INFO("dotted names checked: " << dotted_names << ", table rows checked: " << rows);
    INFO("keys named in docs/config.md that the train config does not have: " << joined(unknown));
    CHECK(rows >= train_config_keys().size());
    CHECK(unknown.empty());
}

}  // namespace vgt::test::config_docs_test
