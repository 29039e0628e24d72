// vgt's side of the optical-flow accuracy benchmark (benchmarks/run-flow):
// average endpoint error and milliseconds per frame pair of vgt's
// estimators on cases with known flow, the same cases OpenCV's side
// (flow_opencv.py) reads.
//
//   vgt_bench_flow_accuracy make-cases DIR
//       adds the MovingShapes cases to DIR (the photographs' warps are
//       written by flow_opencv.py make-cases)
//   vgt_bench_flow_accuracy run DIR [--reps N] [--threads N] [--method NAME]...
//                               [--levels L] [--presmooth S]
//                               [--hs-alpha A] [--hs-warps N] [--hs-iterations N] [--hs-relaxation W] [--hs-median R]
//                               [--lk-radius R] [--lk-sigma S] [--lk-iterations N] [--lk-min-eigenvalue E]
//                               [--lk-median R]
//       one JSON record per (method, case) on stdout; the flags override
//       the estimators' defaults (for tuning; run-flow uses none)
//
// A case is a folder with a.npy, b.npy (float32 [H, W] frames in [0, 1]),
// flow.npy (float32 [2, H, W], the true flow from a to b) and valid.npy
// (float32 [1, H, W], where the truth is defined); see flow_opencv.py.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/flow/endpoint_error.hpp"
#include "vgt/flow/horn_schunck.hpp"
#include "vgt/flow/lucas_kanade.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/ops/view.hpp"

namespace {

namespace fs = std::filesystem;
using vgt::Tensor;

struct Settings {
    std::string dir;
    int reps = 5;
    int threads = 2;
    std::vector<std::string> methods;  // empty: all
    vgt::flow::HornSchunckOptions hs;
    vgt::flow::LucasKanadeOptions lk;
};

double parse_number(const std::string& flag, const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size()) throw vgt::Error(fmt::format("flow_accuracy: expected a number for {}, found '{}'", flag, text));
    return v;
}

Settings parse(const std::vector<std::string>& args) {
    Settings s;
    if (args.size() < 2) throw vgt::Error("flow_accuracy: expected `make-cases DIR` or `run DIR [flags]`");
    s.dir = args[1];
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::string& flag = args[i];
        if (i + 1 >= args.size()) throw vgt::Error(fmt::format("flow_accuracy: expected a value after {}", flag));
        const std::string& text = args[++i];
        if (flag == "--method") {
            s.methods.push_back(text);
            continue;
        }
        const double v = parse_number(flag, text);
        const auto count = static_cast<std::int64_t>(v);
        if (flag == "--reps") s.reps = static_cast<int>(v);
        else if (flag == "--threads") s.threads = static_cast<int>(v);
        else if (flag == "--levels") s.hs.pyramid.levels = s.lk.pyramid.levels = count;
        else if (flag == "--presmooth") s.hs.presmooth_sigma = s.lk.presmooth_sigma = v;
        else if (flag == "--hs-alpha") s.hs.alpha = v;
        else if (flag == "--hs-warps") s.hs.warps = count;
        else if (flag == "--hs-iterations") s.hs.iterations = count;
        else if (flag == "--hs-relaxation") s.hs.relaxation = v;
        else if (flag == "--hs-median") s.hs.median_radius = count;
        else if (flag == "--lk-radius") s.lk.window_radius = count;
        else if (flag == "--lk-sigma") s.lk.window_sigma = v;
        else if (flag == "--lk-iterations") s.lk.iterations = count;
        else if (flag == "--lk-min-eigenvalue") s.lk.min_eigenvalue = v;
        else if (flag == "--lk-median") s.lk.median_radius = count;
        else throw vgt::Error(fmt::format("flow_accuracy: unknown flag {}", flag));
    }
    if (s.reps < 1 || s.threads < 1)
        throw vgt::Error(fmt::format("flow_accuracy: expected --reps and --threads ≥ 1, found {} and {}", s.reps, s.threads));
    return s;
}

// ----- MovingShapes cases --------------------------------------------------------------

/// Frame t of an RGB clip [T, 3, H, W] as the 8-bit luma both sides read, [H, W] in [0, 1].
Tensor luma_frame(const Tensor& video, std::int64_t t) {
    const std::int64_t h = video.size(2), w = video.size(3);
    const float* p = video.data<float>() + t * 3 * h * w;
    Tensor out = Tensor::empty(vgt::Shape{h, w}, vgt::DType::Float32);
    float* o = out.data<float>();
    for (std::int64_t i = 0; i < h * w; ++i) {
        const double y = 0.299 * p[i] + 0.587 * p[h * w + i] + 0.114 * p[2 * h * w + i];
        o[i] = static_cast<float>(std::clamp(std::nearbyint(255.0 * y), 0.0, 255.0) / 255.0);
    }
    return out;
}

void make_cases(const Settings& s) {
    vgt::data::MovingShapesOptions o;
    o.frames = 6;
    o.height = 128;
    o.width = 128;
    o.min_objects = 2;
    o.max_objects = 3;
    o.shapes = vgt::data::all_shape_kinds();
    o.min_size = 16;
    o.max_size = 32;
    o.min_speed = 1;
    o.max_speed = 4;
    o.occlusion = true;
    o.texture = vgt::data::BackgroundTexture::noise;
    o.texture_strength = 0.4;
    o.seed = 7;
    const vgt::data::MovingShapes shapes(o);
    int written = 0;
    for (std::int64_t clip_index = 0; clip_index < 2; ++clip_index) {
        const vgt::data::ShapesClip clip = shapes.get(clip_index);
        const Tensor truth = vgt::data::ground_truth_flow(clip);
        for (std::int64_t t = 0; t + 1 < o.frames; ++t) {
            const fs::path folder = fs::path(s.dir) / fmt::format("shapes_clip{}_t{}", clip_index, t) / "moving_shapes";
            fs::create_directories(folder);
            vgt::io::write_npy((folder / "a.npy").string(), luma_frame(clip.video, t));
            vgt::io::write_npy((folder / "b.npy").string(), luma_frame(clip.video, t + 1));
            vgt::io::write_npy((folder / "flow.npy").string(), vgt::contiguous(vgt::select(truth, 0, t)));
            vgt::io::write_npy((folder / "valid.npy").string(), Tensor::ones(vgt::Shape{1, o.height, o.width}));
            ++written;
        }
    }
    fmt::print(stderr, "flow_accuracy: {} MovingShapes cases in {}\n", written, s.dir);
}

// ----- running the estimators ----------------------------------------------------------------

struct Method {
    std::string name;
    std::function<Tensor(const Tensor&, const Tensor&)> estimate;
};

std::vector<std::string> list_cases(const std::string& dir) {
    std::vector<std::string> cases;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_directory()) continue;
        const fs::path p = entry.path();
        if (fs::exists(p / "a.npy") && fs::exists(p / "b.npy") && fs::exists(p / "flow.npy") &&
            fs::exists(p / "valid.npy"))
            cases.push_back(fs::relative(p, dir).generic_string());
    }
    std::sort(cases.begin(), cases.end());
    return cases;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void run(const Settings& s) {
    vgt::set_num_threads(s.threads);
    vgt::NoGradGuard no_grad;
    const std::vector<Method> all = {
        {"vgt_horn_schunck", [&](const Tensor& a, const Tensor& b) { return vgt::flow::horn_schunck(a, b, s.hs); }},
        {"vgt_lucas_kanade", [&](const Tensor& a, const Tensor& b) { return vgt::flow::lucas_kanade(a, b, s.lk); }},
    };
    std::vector<Method> methods;
    for (const Method& m : all)
        if (s.methods.empty() || std::find(s.methods.begin(), s.methods.end(), m.name) != s.methods.end())
            methods.push_back(m);
    if (methods.empty()) throw vgt::Error("flow_accuracy: no method matches --method (vgt_horn_schunck, vgt_lucas_kanade)");
    const std::vector<std::string> cases = list_cases(s.dir);
    if (cases.empty()) throw vgt::Error(fmt::format("flow_accuracy: no cases under {}", s.dir));
    for (const std::string& name : cases) {
        const fs::path folder = fs::path(s.dir) / name;
        const Tensor a = vgt::io::read_npy((folder / "a.npy").string());
        const Tensor b = vgt::io::read_npy((folder / "b.npy").string());
        const Tensor truth = vgt::io::read_npy((folder / "flow.npy").string());
        const Tensor valid = vgt::io::read_npy((folder / "valid.npy").string());
        for (const Method& m : methods) {
            Tensor flow = m.estimate(a, b);  // warm-up
            std::vector<double> samples;
            for (int r = 0; r < s.reps; ++r) {
                const auto start = std::chrono::steady_clock::now();
                flow = m.estimate(a, b);
                samples.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
            }
            const double aee = vgt::flow::average_endpoint_error(flow, truth, valid).item<double>();
            fmt::print(R"({{"framework": "vgt", "method": "{}", "case": "{}", "aee": {:.6f}, "median_ms": {:.4f}, )"
                       R"("threads": {}, "size": "{}x{}"}})"
                       "\n",
                       m.name, name, aee, median(samples), vgt::num_threads(), a.size(1), a.size(0));
            std::fflush(stdout);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        const Settings s = parse(args);
        if (args[0] == "make-cases") make_cases(s);
        else if (args[0] == "run") run(s);
        else throw vgt::Error(fmt::format("flow_accuracy: unknown command '{}' (make-cases, run)", args[0]));
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
}
