#pragma once
// The text encoder of a text-to-video model: prompts → a sequence of
// feature vectors [B, L, d] and its mask, which the denoiser's
// cross-attention reads (padding keys masked out).
//
//   x      = token_embedding[ids] + position_embedding[0 … L−1]
//   layer: x = x + proj(attention(qkv(LN₁(x)), key mask))
//          x = x + fc2(GELU(fc1(LN₂(x))))
//   out    = LN_final(x)
//
// a pre-LN transformer encoder (Vaswani et al. 2017; pre-LN as in GPT-2 and
// CLIP's text tower), with multi-head self-attention in which a query sees
// every key whose mask is 1, GELU the exact erf form, LayerNorm eps 1e-5.
// Outputs at padded positions are computed like any other (they see the
// real tokens) and are meant to be masked by the reader.
//
// Parameters (d = width, V = vocabulary size, L = max_length, m = mlp_ratio):
//   token_embedding.weight [V, d], position_embedding.weight [L, d]
//   layers.<i>.norm1.weight, .bias [d]
//   layers.<i>.attention.qkv.weight [3d, d], .bias [3d]   (q, k, v = rows 0…d−1, d…2d−1, 2d…3d−1,
//                                                         each split into heads of d/heads)
//   layers.<i>.attention.proj.weight [d, d], .bias [d]
//   layers.<i>.norm2.weight, .bias [d]
//   layers.<i>.mlp.fc1.weight [m·d, d], .bias [m·d]; layers.<i>.mlp.fc2.weight [d, m·d], .bias [d]
//   final_norm.weight, .bias [d]
// Embeddings start N(0, 0.02²) (as CLIP), linear layers as PyTorch's
// nn.Linear, norms at weight 1, bias 0.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/models/tokenizer.hpp"
#include "vgt/nn/attention.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/layer_norm.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/embedding.hpp"
#include "vgt/ops/matmul.hpp"
#include "vgt/ops/norm.hpp"
#include "vgt/ops/softmax.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::models {

struct TextEncoderOptions {
    std::int64_t vocab_limit = 1000;  // most tokens of a vocabulary built from captions, specials included
    std::int64_t max_length = 32;     // L: tokens per prompt, <bos> and <eos> included
    std::int64_t width = 256;         // d
    std::int64_t layers = 4;
    std::int64_t heads = 4;      // must divide width
    std::int64_t mlp_ratio = 4;  // the MLP's hidden width is mlp_ratio · width

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        constexpr const char* op = "TextEncoderOptions";
        VGT_CHECK(vocab_limit > Tokenizer::special_count, op,
                  "expected a vocab_limit above the {} special tokens, found {}", Tokenizer::special_count,
                  vocab_limit);
        VGT_CHECK(max_length >= 2, op, "expected a max_length of at least 2 (<bos> and <eos>), found {}", max_length);
        VGT_CHECK(width >= 1, op, "expected a positive width, found {}", width);
        VGT_CHECK(layers >= 0, op, "expected a non-negative number of layers, found {}", layers);
        VGT_CHECK(heads >= 1 && width % heads == 0, op, "expected a head count dividing the width {}, found {}", width,
                  heads);
        VGT_CHECK(mlp_ratio >= 1, op, "expected a positive mlp_ratio, found {}", mlp_ratio);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, TextEncoderOptions& o) {
    v("vocab_limit", o.vocab_limit);
    v("max_length", o.max_length);
    v("width", o.width);
    v("layers", o.layers);
    v("heads", o.heads);
    v("mlp_ratio", o.mlp_ratio);
}

/// What the text encoder gives cross-attention.
struct TextEncoding {
    Tensor tokens;  // [B, L, d]
    Tensor mask;    // int64 [B, L]: 1 on a token, 0 on padding
};

/// Multi-head self-attention over [B, L, d] in which each sequence's padded
/// keys are hidden: `key_bias` [B, 1, 1, L] holds 0 on a visible key and −∞
/// on a hidden one (every row must see one key at least).
class MaskedSelfAttention {
public:
    MaskedSelfAttention() = default;
    MaskedSelfAttention(std::int64_t width, std::int64_t heads, Generator& gen, DType dtype)
        : qkv(width, 3 * width, gen, dtype), proj(width, width, gen, dtype), heads_(heads) {}

    Tensor forward(const Tensor& x, const Tensor& key_bias) const {
        const std::int64_t batch = x.size(0), length = x.size(1), width = x.size(2), d = width / heads_;
        // [B, L, 3d] → [3, B, heads, L, d]: q, k and v as contiguous [B, heads, L, d].
        const Tensor qkv_heads =
            contiguous(permute(reshape(qkv.forward(x), Shape{batch, length, 3, heads_, d}), {2, 0, 3, 1, 4}));
        const Tensor q = mul(select(qkv_heads, 0, 0), 1.0 / std::sqrt(static_cast<double>(d)));
        const Tensor logits = add(matmul(q, transpose(select(qkv_heads, 0, 1), -1, -2)), key_bias);  // [B, heads, L, L]
        const Tensor attended = matmul(softmax(logits, -1), select(qkv_heads, 0, 2));                // [B, heads, L, d]
        return proj.forward(reshape(permute(attended, {0, 2, 1, 3}), Shape{batch, length, width}));
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        qkv.visit_parameters(visit, nn::join_name(prefix, "qkv"));
        proj.visit_parameters(visit, nn::join_name(prefix, "proj"));
    }

    nn::Linear qkv;
    nn::Linear proj;

private:
    std::int64_t heads_ = 1;
};

/// One pre-LN encoder layer: attention and MLP residual branches.
class TextEncoderLayer {
public:
    TextEncoderLayer(const TextEncoderOptions& o, Generator& gen, DType dtype)
        : norm1(o.width, dtype),
          attention(o.width, o.heads, gen, dtype),
          norm2(o.width, dtype),
          fc1(o.width, o.mlp_ratio * o.width, gen, dtype),
          fc2(o.mlp_ratio * o.width, o.width, gen, dtype) {}

    Tensor forward(const Tensor& x, const Tensor& key_bias) const {
        const Tensor h = add(x, attention.forward(norm1.forward(x), key_bias));
        return add(h, fc2.forward(gelu(fc1.forward(norm2.forward(h)))));
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm1.visit_parameters(visit, nn::join_name(prefix, "norm1"));
        attention.visit_parameters(visit, nn::join_name(prefix, "attention"));
        norm2.visit_parameters(visit, nn::join_name(prefix, "norm2"));
        fc1.visit_parameters(visit, nn::join_name(prefix, "mlp.fc1"));
        fc2.visit_parameters(visit, nn::join_name(prefix, "mlp.fc2"));
    }

    nn::LayerNorm norm1;
    MaskedSelfAttention attention;
    nn::LayerNorm norm2;
    nn::Linear fc1;
    nn::Linear fc2;
};

class TextEncoder {
public:
    /// The vocabulary size V is tokenizer.size(); options.vocab_limit only
    /// matters to from_captions.
    TextEncoder(Tokenizer tokenizer, const TextEncoderOptions& options, Generator& gen, DType dtype = DType::Float32)
        : tokenizer_(std::move(tokenizer)), options_(validated(options)), dtype_(dtype) {
        token_embedding = nn::parameter(randn(Shape{tokenizer_.size(), options_.width}, gen, dtype, 0.0, 0.02));
        position_embedding = nn::parameter(randn(Shape{options_.max_length, options_.width}, gen, dtype, 0.0, 0.02));
        for (std::int64_t i = 0; i < options_.layers; ++i) layers.emplace_back(options_, gen, dtype);
        final_norm = nn::LayerNorm(options_.width, dtype);
    }

    /// An encoder with a vocabulary built from `captions` (options.vocab_limit tokens at most).
    static TextEncoder from_captions(const std::vector<std::string>& captions, const TextEncoderOptions& options,
                                     Generator& gen, DType dtype = DType::Float32) {
        return TextEncoder(Tokenizer::from_captions(captions, options.vocab_limit), options, gen, dtype);
    }

    /// Tokenizes prompts to max_length and encodes them.
    TextEncoding encode(const std::vector<std::string>& prompts) const {
        return forward(tokenizer_.encode(prompts, options_.max_length));
    }

    /// ids, mask: int64 [B, L] with 1 ≤ L ≤ max_length, ids in [0, V), mask
    /// values 0 or 1 and at least one 1 per row.
    TextEncoding forward(const TokenBatch& batch) const {
        constexpr const char* op = "TextEncoder";
        const Tensor& ids = batch.ids;
        const Tensor& mask = batch.mask;
        VGT_CHECK(ids.dtype() == DType::Int64 && ids.rank() == 2, op, "expected int64 token ids [B, L], found {}",
                  ids.str());
        VGT_CHECK(mask.dtype() == DType::Int64 && mask.shape() == ids.shape(), op,
                  "expected an int64 mask of the ids' shape {}, found {}", ids.shape(), mask.str());
        const std::int64_t length = ids.size(1), vocab = tokenizer_.size();
        VGT_CHECK(length >= 1 && length <= options_.max_length, op,
                  "expected between 1 and max_length {} tokens per prompt, found {}", options_.max_length, length);
        const std::vector<std::int64_t> id_values = ids.to_vector<std::int64_t>();
        for (std::size_t i = 0; i < id_values.size(); ++i)
            VGT_CHECK(id_values[i] >= 0 && id_values[i] < vocab, op,
                      "expected token ids in [0, {}) (the vocabulary's size), found {} at position {}", vocab,
                      id_values[i], i);

        Tensor x = add(embedding(token_embedding, ids), slice(position_embedding, 0, 0, length));
        const Tensor key_bias = nn::key_padding_bias(mask, dtype_, "TextEncoder");
        for (const TextEncoderLayer& layer : layers) x = layer.forward(x, key_bias);
        return {final_norm.forward(x), mask};
    }

    const Tokenizer& tokenizer() const { return tokenizer_; }
    const TextEncoderOptions& options() const { return options_; }
    std::int64_t width() const { return options_.width; }
    DType dtype() const { return dtype_; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        visit(nn::join_name(prefix, "token_embedding.weight"), token_embedding);
        visit(nn::join_name(prefix, "position_embedding.weight"), position_embedding);
        for (std::size_t i = 0; i < layers.size(); ++i)
            layers[i].visit_parameters(visit, nn::join_name(prefix, "layers." + std::to_string(i)));
        final_norm.visit_parameters(visit, nn::join_name(prefix, "final_norm"));
    }

    Tensor token_embedding;     // [V, d]
    Tensor position_embedding;  // [max_length, d]
    std::vector<TextEncoderLayer> layers;
    nn::LayerNorm final_norm;

private:
    static const TextEncoderOptions& validated(const TextEncoderOptions& o) {
        o.validate();
        return o;
    }


    Tokenizer tokenizer_;
    TextEncoderOptions options_;
    DType dtype_;
};

}  // namespace vgt::models
