// These tests read the real Fashion-MNIST files of Debian's
// dataset-fashion-mnist (tools/run-tests installs it): a machine without
// them fails here, with a message naming the package.
#include "support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include <unistd.h>

#include <vgt/data/moving_fashion_mnist.hpp>

namespace vgt::test::moving_fashion_mnist_test {

using vgt::test::TempDir;
using namespace vgt::data;
namespace fs = std::filesystem;

namespace {

MovingFashionMNISTOptions small_options() {
    MovingFashionMNISTOptions o;
    o.clips = 50;
    o.frames = 12;
    o.seed = 3;
    return o;
}

/// The frame as the ground truth says it should be: each item's image pasted
/// at its whole-pixel position, composited by the maximum.
std::vector<float> expected_frame(const MovingFashionMNIST& data, const FashionClip& clip, int t) {
    const auto& o = data.options();
    std::vector<float> frame(static_cast<std::size_t>(o.height * o.width), 0.0f);
    for (const FashionItem& item : clip.items) {
        const FashionItemState& s = item.frames[static_cast<std::size_t>(t)];
        const std::uint8_t* image = data.source().image(item.image_index);
        for (int r = 0; r < 28; ++r)
            for (int c = 0; c < 28; ++c) {
                float& v = frame[static_cast<std::size_t>((static_cast<int>(s.y) + r) * o.width + static_cast<int>(s.x) + c)];
                v = std::max(v, image[r * 28 + c] / 255.0f);
            }
    }
    return frame;
}

}  // namespace

TEST_CASE("Fashion-MNIST: the package's files decode to the known splits", "[data][fashion]") {
    const auto data = load_fashion_mnist(FashionMNISTSplit::Train);
    CHECK(data->images.shape() == Shape{60000, 28, 28});
    CHECK(data->images.dtype() == DType::UInt8);
    CHECK(data->labels.shape() == Shape{60000});
    // The first training labels: ankle boot, T-shirt/top, T-shirt/top, dress, ...
    const std::vector<int> first = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    for (int i = 0; i < 10; ++i) CHECK(data->label(i) == first[static_cast<std::size_t>(i)]);
    CHECK(kFashionMNISTClassNames[static_cast<std::size_t>(data->label(0))] == "Ankle boot");
    // The first image (an ankle boot), by its pixel sum and a few pixels.
    const std::uint8_t* image = data->image(0);
    CHECK(std::accumulate(image, image + 784, 0) == 76247);
    CHECK(image[14 * 28 + 14] == 217);
    CHECK(std::vector<int>(image + 3 * 28 + 12, image + 3 * 28 + 16) == std::vector<int>{1, 0, 0, 13});
    CHECK(std::accumulate(data->image(59999), data->image(59999) + 784, 0) == 16684);
    // 6000 of each class.
    std::vector<int> counts(10, 0);
    for (std::int64_t i = 0; i < data->size(); ++i) ++counts[static_cast<std::size_t>(data->label(i))];
    CHECK(counts == std::vector<int>(10, 6000));

    const auto test = load_fashion_mnist(FashionMNISTSplit::Test);
    CHECK(test->images.shape() == Shape{10000, 28, 28});
    CHECK(test->labels.shape() == Shape{10000});
    CHECK(test->label(0) == 9);
    CHECK(test->label(1) == 2);
    CHECK(std::accumulate(test->image(0), test->image(0) + 784, 0) == 33456);
    CHECK(test->images_path.find("t10k-images-idx3-ubyte") != std::string::npos);

    // Decoded once: the cache hands out the same data.
    CHECK(load_fashion_mnist(FashionMNISTSplit::Train).get() == data.get());
    CHECK(fashion_mnist_split_named("test") == FashionMNISTSplit::Test);
    CHECK_THROWS_WITH(fashion_mnist_split_named("val"), Catch::Contains("'train' or 'test'") && Catch::Contains("'val'"));
}

TEST_CASE("MovingFashionMNIST is a Dataset of [T, C, H, W] clips in [0, 1]", "[data][fashion]") {
    static_assert(Dataset<MovingFashionMNIST>);
    static_assert(std::is_same_v<clip_type_t<MovingFashionMNIST>, FashionClip>);
    const MovingFashionMNIST data;  // defaults: train split, 20 frames of 64x64, 1 or 2 items
    CHECK(data.size() == 60000);
    const FashionClip clip = data.get(0);
    CHECK(clip.video.shape() == Shape{20, 1, 64, 64});
    CHECK(clip.video.dtype() == DType::Float32);
    const auto values = clip.video.to_vector<float>();
    CHECK(*std::min_element(values.begin(), values.end()) == 0.0f);
    CHECK(*std::max_element(values.begin(), values.end()) <= 1.0f);
    CHECK(*std::max_element(values.begin(), values.end()) > 0.5f);

    MovingFashionMNISTOptions o = small_options();
    o.split = FashionMNISTSplit::Test;
    o.channels = 3;
    o.height = 40;
    o.width = 96;
    o.clips = 0;
    const MovingFashionMNIST rgb(o);
    CHECK(rgb.size() == 10000);
    const Tensor video = rgb.get(9999).video;
    REQUIRE(video.shape() == Shape{12, 3, 40, 96});
    const float* p = video.data<float>();
    const std::int64_t plane = 40 * 96;
    bool grey = true;
    for (std::int64_t t = 0; t < 12; ++t)
        for (std::int64_t i = 0; i < plane; ++i)
            grey = grey && p[(t * 3 + 1) * plane + i] == p[t * 3 * plane + i] && p[(t * 3 + 2) * plane + i] == p[t * 3 * plane + i];
    CHECK(grey);
    CHECK_THROWS_WITH(rgb.get(10000), Catch::Contains("MovingFashionMNIST::get") && Catch::Contains("[0, 10000)"));
    CHECK_THROWS_WITH(rgb.get(-1), Catch::Contains("found -1"));
}

TEST_CASE("MovingFashionMNIST clips are deterministic in (seed, index)", "[data][fashion]") {
    const MovingFashionMNIST a(small_options());
    const MovingFashionMNIST b(small_options());
    const FashionClip later = a.get(7);  // asked for out of order, from another instance
    for (const std::int64_t i : {std::int64_t{3}, std::int64_t{7}, std::int64_t{49}}) {
        const FashionClip x = a.get(i), y = b.get(i);
        CHECK(x.caption == y.caption);
        CHECK(x.video.to_vector<float>() == y.video.to_vector<float>());
        REQUIRE(x.items.size() == y.items.size());
        for (std::size_t k = 0; k < x.items.size(); ++k) {
            CHECK(x.items[k].image_index == y.items[k].image_index);
            CHECK(x.items[k].frames.back().x == y.items[k].frames.back().x);
        }
    }
    CHECK(later.video.to_vector<float>() == b.get(7).video.to_vector<float>());
    // Other indices and other seeds give other clips.
    CHECK(a.get(3).video.to_vector<float>() != a.get(4).video.to_vector<float>());
    MovingFashionMNISTOptions other = small_options();
    other.seed = 4;
    CHECK(MovingFashionMNIST(other).get(3).video.to_vector<float>() != a.get(3).video.to_vector<float>());
}

TEST_CASE("MovingFashionMNIST: items stay inside the frame and bounce off the walls", "[data][fashion]") {
    for (const bool subpixel : {false, true}) {
        for (const bool compass : {true, false}) {
            INFO("subpixel " << subpixel << " compass " << compass);
            MovingFashionMNISTOptions o = small_options();
            o.subpixel = subpixel;
            o.compass_directions = compass;
            o.frames = 30;
            o.width = 80;
            o.max_speed = 6;
            const MovingFashionMNIST data(o);
            const double lx = 80 - 28, ly = 64 - 28;
            int bounces = 0, two_items = 0;
            for (std::int64_t i = 0; i < data.size(); ++i) {
                const FashionClip clip = data.get(i);
                two_items += clip.items.size() == 2;
                for (const FashionItem& item : clip.items) {
                    bounces += item.bouncing;
                    CHECK(item.label == data.source().label(item.image_index));
                    const double speed = std::hypot(item.frames[0].vx, item.frames[0].vy);
                    if (subpixel) CHECK((speed >= 2 - 1e-9 && speed <= 6 + 1e-9));
                    if (compass) CHECK((item.frames[0].vx == 0 || item.frames[0].vy == 0 ||
                                        std::abs(std::abs(item.frames[0].vx) - std::abs(item.frames[0].vy)) < 1e-9));
                    bool bounced = false;
                    for (std::size_t t = 0; t < item.frames.size(); ++t) {
                        const FashionItemState& s = item.frames[t];
                        CHECK((s.x >= 0 && s.x <= lx && s.y >= 0 && s.y <= ly));
                        if (!subpixel) CHECK((s.x == std::round(s.x) && s.y == std::round(s.y)));
                        if (t == 0) continue;
                        // The state follows from the previous one: a step, reflected at the walls.
                        const FashionItemState& p = item.frames[t - 1];
                        for (const auto& [pos, vel, prev_pos, prev_vel, limit] :
                             {std::tuple{s.x, s.vx, p.x, p.vx, lx}, std::tuple{s.y, s.vy, p.y, p.vy, ly}}) {
                            const double moved = prev_pos + prev_vel;
                            if (moved < 0 || moved > limit) {
                                bounced = true;
                                CHECK(vel == -prev_vel);
                                CHECK(pos == Approx(moved < 0 ? -moved : 2 * limit - moved));
                            } else {
                                CHECK(vel == prev_vel);
                                CHECK(pos == moved);
                            }
                        }
                    }
                    CHECK(bounced == item.bouncing);
                }
            }
            CHECK(two_items > 10);
            CHECK(two_items < 40);
            CHECK(bounces > 0);
        }
    }
}

TEST_CASE("MovingFashionMNIST: the pixels are where the ground truth says", "[data][fashion]") {
    SECTION("whole pixels: each frame is the items' images pasted and max-composited") {
        const MovingFashionMNIST data(small_options());
        for (std::int64_t i = 0; i < 10; ++i) {
            const FashionClip clip = data.get(i);
            const float* video = clip.video.data<float>();
            for (int t = 0; t < 12; ++t) {
                INFO("clip " << i << " frame " << t);
                const auto expected = expected_frame(data, clip, t);
                CHECK(std::equal(expected.begin(), expected.end(), video + t * 64 * 64));
            }
        }
    }
    SECTION("subpixel: the intensity centroid moves with the fractional position") {
        MovingFashionMNISTOptions o = small_options();
        o.subpixel = true;
        o.min_items = o.max_items = 1;
        const MovingFashionMNIST data(o);
        for (std::int64_t i = 0; i < 5; ++i) {
            const FashionClip clip = data.get(i);
            const FashionItem& item = clip.items.at(0);
            // The image's own centroid, in its 28x28 box.
            const std::uint8_t* image = data.source().image(item.image_index);
            double mass = 0, cy = 0, cx = 0;
            for (int r = 0; r < 28; ++r)
                for (int c = 0; c < 28; ++c) {
                    mass += image[r * 28 + c];
                    cy += r * image[r * 28 + c];
                    cx += c * image[r * 28 + c];
                }
            cy /= mass;
            cx /= mass;
            const float* video = clip.video.data<float>();
            for (int t = 0; t < 12; ++t) {
                INFO("clip " << i << " frame " << t);
                const FashionItemState& s = item.frames[static_cast<std::size_t>(t)];
                double m = 0, fy = 0, fx = 0;
                for (int y = 0; y < 64; ++y)
                    for (int x = 0; x < 64; ++x) {
                        const double v = video[t * 4096 + y * 64 + x];
                        m += v;
                        fy += y * v;
                        fx += x * v;
                    }
                CHECK(m * 255 == Approx(mass).epsilon(1e-5));  // bilinear splatting keeps the mass
                CHECK(fy / m == Approx(s.y + cy).margin(1e-3));
                CHECK(fx / m == Approx(s.x + cx).margin(1e-3));
                CHECK(s.x != std::round(s.x));  // really fractional
            }
        }
    }
}

TEST_CASE("MovingFashionMNIST captions name each item's class and first direction", "[data][fashion]") {
    MovingFashionMNISTOptions o = small_options();
    o.frames = 3;  // short clips: most items do not bounce
    const MovingFashionMNIST data(o);
    const std::vector<std::string> nouns = fashion_mnist_caption_nouns();
    int checked_two = 0, plain = 0;
    for (std::int64_t i = 0; i < data.size(); ++i) {
        const FashionClip clip = data.get(i);
        INFO(clip.caption);
        const std::vector<CaptionObject> said = parse_caption(clip.caption, {}, nouns, false);
        REQUIRE(said.size() == clip.items.size());
        std::string expected;
        for (std::size_t k = 0; k < said.size(); ++k) {
            const FashionItem& item = clip.items[k];
            CHECK(said[k].noun == kFashionMNISTCaptionNouns[static_cast<std::size_t>(item.label)]);
            CHECK(said[k].direction == direction_of(item.frames[0].vx, item.frames[0].vy));
            CHECK(said[k].bouncing == item.bouncing);
            if (k > 0) expected += " and ";
            const std::string noun(kFashionMNISTCaptionNouns[static_cast<std::size_t>(item.label)]);
            // Image coordinates: y grows down, so vy < 0 is "up".
            const double vx = item.frames[0].vx, vy = item.frames[0].vy;
            const std::string vertical = vy < -0.5 ? "up" : vy > 0.5 ? "down" : "";
            const std::string horizontal = vx < -0.5 ? "left" : vx > 0.5 ? "right" : "";
            const std::string direction = vertical.empty()     ? horizontal
                                          : horizontal.empty() ? vertical
                                                               : vertical + " and to the " + horizontal;
            expected += (noun == "ankle boot" ? "an " : "a ") + noun + " moving " + direction +
                        (item.bouncing ? " and bouncing" : "");
        }
        CHECK(clip.caption == expected);
        checked_two += clip.items.size() == 2;
        plain += clip.caption.find("bouncing") == std::string::npos;
    }
    CHECK(checked_two > 0);
    CHECK(plain > 0);
    // The plain caption form ("a sneaker moving down"), built from a known state.
    CHECK(make_caption({{"", "sneaker", Direction::down, false}}) == "a sneaker moving down");
    CHECK(make_caption({{"", "bag", Direction::left, false}, {"", "coat", Direction::up, false}}) ==
          "a bag moving left and a coat moving up");

    // Varied phrasings change the words, not the content.
    o.varied_captions = true;
    const MovingFashionMNIST varied(o);
    std::set<int> phrasings;
    for (std::int64_t i = 0; i < 20; ++i) {
        const FashionClip a = data.get(i), b = varied.get(i);
        const bool that = b.caption.find(" that ") != std::string::npos;
        const bool going = b.caption.find(" going ") != std::string::npos;
        const bool is = b.caption.find(" is moving ") != std::string::npos;
        phrasings.insert(that ? 1 : going ? 2 : is ? 3 : 0);
        CHECK(a.video.to_vector<float>() == b.video.to_vector<float>());
        const auto pa = parse_caption(a.caption, {}, nouns, false), pb = parse_caption(b.caption, {}, nouns, false);
        REQUIRE(pa.size() == pb.size());
        for (std::size_t k = 0; k < pa.size(); ++k) {
            CHECK(pa[k].noun == pb[k].noun);
            CHECK(pa[k].direction == pb[k].direction);
        }
    }
    CHECK(phrasings.size() == 4);
}

TEST_CASE("MovingFashionMNIST reads another folder, plain IDX files included", "[data][fashion]") {
    // A tiny stand-in data set: 3 images that are solid squares, labels 8, 1, 5.
    const TempDir dir;
    Tensor images = Tensor::zeros(Shape{3, 28, 28}, DType::UInt8);
    for (int n = 0; n < 3; ++n)
        for (int r = 10; r < 18; ++r)
            for (int c = 4; c < 9; ++c) images.data<std::uint8_t>()[(n * 28 + r) * 28 + c] = static_cast<std::uint8_t>(100 + n);
    io::write_idx(dir.file("train-images-idx3-ubyte"), images);
    io::write_idx(dir.file("train-labels-idx1-ubyte"), Tensor::from_vector(std::vector<std::uint8_t>{8, 1, 5}));

    MovingFashionMNISTOptions o = small_options();
    o.directory = dir.path.string();
    o.min_items = o.max_items = 1;
    const MovingFashionMNIST data(o);
    CHECK(data.source().size() == 3);
    for (std::int64_t i = 0; i < 10; ++i) {
        const FashionClip clip = data.get(i);
        const FashionItem& item = clip.items.at(0);
        CHECK(item.label == std::vector<int>{8, 1, 5}[static_cast<std::size_t>(item.image_index)]);
        CHECK(clip.caption.find(std::string(kFashionMNISTCaptionNouns[static_cast<std::size_t>(item.label)])) == 2);
        // The lit pixels are exactly the square at the ground-truth position.
        for (int t = 0; t < 12; ++t) {
            const FashionItemState& s = item.frames[static_cast<std::size_t>(t)];
            const float* frame = clip.video.data<float>() + t * 4096;
            int lit = 0, inside = 0;
            for (int y = 0; y < 64; ++y)
                for (int x = 0; x < 64; ++x) {
                    if (frame[y * 64 + x] == 0) continue;
                    ++lit;
                    inside += y - s.y >= 10 && y - s.y < 18 && x - s.x >= 4 && x - s.x < 9 &&
                              frame[y * 64 + x] == (100 + item.image_index) / 255.0f;
                }
            CHECK(lit == 40);
            CHECK(inside == 40);
        }
    }

    // The environment variable names the folder when the option does not.
    ::setenv("VGT_FASHION_MNIST_DIR", dir.path.string().c_str(), 1);
    CHECK(fashion_mnist_directory() == dir.path.string());
    o.directory.clear();
    const std::int64_t from_env = MovingFashionMNIST(o).source().size();
    ::unsetenv("VGT_FASHION_MNIST_DIR");
    CHECK(from_env == 3);
    CHECK(fashion_mnist_directory() == "/usr/share/datasets/fashion-mnist");

    // A folder without the files: the error says how to get them.
    o.directory = dir.file("empty");
    CHECK_THROWS_WITH(MovingFashionMNIST(o), Catch::Contains("load_fashion_mnist") && Catch::Contains("empty") &&
                                                 Catch::Contains("train-images-idx3-ubyte.gz") &&
                                                 Catch::Contains("dataset-fashion-mnist") &&
                                                 Catch::Contains("VGT_FASHION_MNIST_DIR"));
    // Files that are not Fashion-MNIST.
    const TempDir bad;
    io::write_idx(bad.file("t10k-images-idx3-ubyte"), Tensor::zeros(Shape{2, 28, 27}, DType::UInt8));
    io::write_idx(bad.file("t10k-labels-idx1-ubyte"), Tensor::zeros(Shape{2}, DType::UInt8));
    o.directory = bad.path.string();
    o.split = FashionMNISTSplit::Test;
    CHECK_THROWS_WITH(MovingFashionMNIST(o), Catch::Contains("[N, 28, 28]") && Catch::Contains("[2, 28, 27]"));
    {
        // Preferred over the plain file beside it, and corrupt.
        std::ofstream corrupt(bad.file("t10k-images-idx3-ubyte.gz"), std::ios::binary);
        corrupt << "\x1f\x8b\x08\x00 not deflate data";
    }
    CHECK_THROWS_WITH(load_fashion_mnist(FashionMNISTSplit::Test, bad.path.string()),
                      Catch::Contains("read_idx") && Catch::Contains("t10k-images-idx3-ubyte.gz"));
}

TEST_CASE("MovingFashionMNIST validates its options", "[data][fashion]") {
    auto error = [](auto edit) {
        MovingFashionMNISTOptions o = small_options();
        edit(o);
        try {
            MovingFashionMNIST data(o);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    using Catch::Contains;
    CHECK_THAT(error([](auto& o) { o.frames = 0; }), Contains("MovingFashionMNIST") && Contains("frames >= 1, found 0"));
    CHECK_THAT(error([](auto& o) { o.height = 27; }), Contains("at least 28x28") && Contains("27x64"));
    CHECK_THAT(error([](auto& o) { o.channels = 2; }), Contains("channels 1 or 3, found 2"));
    CHECK_THAT(error([](auto& o) { o.min_items = 3; }), Contains("min_items 3 and max_items 2"));
    CHECK_THAT(error([](auto& o) { o.max_items = 17; }), Contains("<= 16"));
    CHECK_THAT(error([](auto& o) { o.max_speed = 37; }), Contains("max_speed <= 36") && Contains("found min_speed 2 and max_speed 37"));
    CHECK_THAT(error([](auto& o) { o.min_speed = -1; }), Contains("0 <= min_speed"));
    CHECK_THAT(error([](auto& o) { o.clips = -5; }), Contains("clips >= 0"));
    CHECK(error([](auto& o) { o.height = o.width = 28, o.min_speed = o.max_speed = 0; }) == "no error");
}

}  // namespace vgt::test::moving_fashion_mnist_test
