#include "support.hpp"

namespace vgt::test::tensor_test {

TEST_CASE("tensors have shapes, strides and a dtype", "[core]") {
    Tensor t = Tensor::zeros({2, 3, 4});
    CHECK(t.rank() == 3);
    CHECK(t.numel() == 24);
    CHECK(t.strides() == Strides{12, 4, 1});
    CHECK(t.dtype() == DType::Float32);
    CHECK(t.device() == Device::cpu());
    CHECK(t.is_contiguous());
    CHECK(reinterpret_cast<std::uintptr_t>(t.raw_data()) % kStorageAlignment == 0);
    CHECK(t.size(-1) == 4);
    CHECK_THROWS_AS(t.size(3), Error);
    CHECK_THROWS_WITH(Tensor::zeros({1, 2, 3, 4, 5, 6, 7}), Catch::Contains("rank at most 6"));
}

TEST_CASE("views share storage, and reshape of a non-contiguous tensor copies", "[core]") {
    std::vector<float> values(24);
    for (int i = 0; i < 24; ++i) values[i] = static_cast<float>(i);
    Tensor t = Tensor::from_vector(values, {2, 3, 4});

    Tensor s = slice(t, 2, 1, 4, 2);  // elements 1 and 3 of the last dimension
    CHECK(s.shape() == Shape{2, 3, 2});
    CHECK(s.same_storage(t));
    CHECK(s.to_vector<float>() == std::vector<float>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23});

    Tensor p = permute(t, {2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    CHECK(p.same_storage(t));
    CHECK_FALSE(p.is_contiguous());
    CHECK(p.to_vector<float>()[1] == 4.0f);  // p[0, 0, 1] = t[0, 1, 0]

    Tensor r = reshape(p, {4, 6});
    CHECK_FALSE(r.same_storage(t));
    CHECK(r.to_vector<float>() == p.to_vector<float>());
    CHECK(reshape(t, {6, -1}).same_storage(t));
    CHECK(select(t, 1, -1).to_vector<float>() == std::vector<float>{8, 9, 10, 11, 20, 21, 22, 23});
    CHECK_THROWS_WITH(reshape(t, {5, -1}), Catch::Contains("reshape") && Catch::Contains("24"));
    CHECK_THROWS_WITH(permute(t, {0, 0, 1}), Catch::Contains("twice"));
}

TEST_CASE("element types convert and are checked", "[core]") {
    Tensor t = Tensor::full({3}, 2.5, DType::Float64);
    CHECK(to(t, DType::Float32).dtype() == DType::Float32);
    CHECK(to(t, DType::Int64).to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 2, 2});
    CHECK_THROWS_WITH(t.data<float>(), Catch::Contains("float32") && Catch::Contains("float64"));
    // No machine has a thousand GPUs; a build without CUDA has none at all.
    CHECK_THROWS_AS(Tensor::empty({2}, DType::Float32, Device::cuda(1000)), Error);
}

TEST_CASE("Philox4x32-10 matches the published known-answer vectors", "[core][random]") {
    // Random123's kat_vectors for philox4x32_10.
    auto run = [](PhiloxBlock c, std::uint32_t k0, std::uint32_t k1) { return philox4x32_10(c, k0, k1); };
    PhiloxBlock zero = run({{0, 0, 0, 0}}, 0, 0);
    CHECK(zero.x[0] == 0x6627e8d5u);
    CHECK(zero.x[1] == 0xe169c58du);
    CHECK(zero.x[2] == 0xbc57ac4cu);
    CHECK(zero.x[3] == 0x9b00dbd8u);
    PhiloxBlock ones = run({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
    CHECK(ones.x[0] == 0x408f276du);
    CHECK(ones.x[1] == 0x41c83b0eu);
    CHECK(ones.x[2] == 0xa20bc7c6u);
    CHECK(ones.x[3] == 0x6d5451fdu);
    PhiloxBlock pi = run({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
    CHECK(pi.x[0] == 0xd16cfe09u);
    CHECK(pi.x[1] == 0x94fdcceb);
    CHECK(pi.x[2] == 0x5001e420u);
    CHECK(pi.x[3] == 0x24126ea1u);
}

TEST_CASE("random numbers depend only on (seed, offset)", "[core][random]") {
    Generator whole(42);
    Tensor all = randn({1000}, whole);
    Generator split(42);
    Tensor first = randn({300}, split);
    Tensor rest = randn({700}, split);
    const auto a = all.to_vector<float>();
    const auto f = first.to_vector<float>();
    const auto r = rest.to_vector<float>();
    for (int i = 0; i < 300; ++i) REQUIRE(a[i] == f[i]);
    for (int i = 0; i < 700; ++i) REQUIRE(a[300 + i] == r[i]);

    set_num_threads(1);
    Generator single(42);
    CHECK(randn({1000}, single).to_vector<float>() == a);
    set_num_threads(2);

    // Moments of 10^5 normals and uniforms.
    Generator g(7);
    const auto n = randn({100000}, g, DType::Float64).to_vector<double>();
    double mean = 0, var = 0;
    for (double v : n) mean += v;
    mean /= n.size();
    for (double v : n) var += (v - mean) * (v - mean);
    var /= n.size();
    CHECK(std::abs(mean) < 0.02);
    CHECK(std::abs(var - 1.0) < 0.02);
    const auto u = rand({100000}, g, DType::Float64).to_vector<double>();
    double umean = 0;
    for (double v : u) {
        REQUIRE(v > 0.0);
        REQUIRE(v < 1.0);
        umean += v;
    }
    CHECK(std::abs(umean / u.size() - 0.5) < 0.01);
}

TEST_CASE("parallel_for covers every index once and propagates errors", "[core][parallel]") {
    for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        CHECK(num_threads() == threads);
        std::vector<int> hits(100000, 0);
        parallel_for(static_cast<std::int64_t>(hits.size()), [&](std::int64_t i) { hits[i] += 1; }, 100);
        CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
        CHECK_THROWS_AS(parallel_for(10000, [](std::int64_t i) { if (i == 5000) throw Error("boom"); }, 10), Error);
    }
    set_num_threads(2);
    CHECK_THROWS_AS(set_num_threads(0), Error);
}

}  // namespace vgt::test::tensor_test
