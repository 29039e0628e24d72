#pragma once
// A word-level tokenizer whose vocabulary is built from training captions,
// for the text encoder of a text-to-video model trained from scratch on
// small data (no pretrained subword vocabulary needed, none downloaded).
//
// Words. The text must be UTF-8. ASCII letters are lowercased; a word is a
// maximal run of word characters, which are the ASCII letters and digits and
// every non-ASCII character outside the Unicode punctuation and symbol
// blocks listed in is_separator() below (so "café" and "视频" stay words,
// while “quotes”, "—" and "，" separate them). "Up-left, 3 Cats!" is
// {"up", "left", "3", "cats"}.
//
// Vocabulary. Ids 0 … 3 are the special tokens <pad>, <unk>, <bos>, <eos>;
// then the words of the captions by decreasing count, ties broken by byte
// order (which for UTF-8 is code-point order), cut to vocab_limit tokens in
// all. The same captions give the same vocabulary, in any order.
//
// Encoding to max_length L: <bos>, the words' ids (<unk> for words outside
// the vocabulary), <eos>, then <pad> up to L. Prompts longer than L − 2
// words lose their last words; <eos> is always kept. The attention mask is
// 1 on <bos>, the words and <eos>, 0 on padding, so every prompt, the empty
// one included, has at least two visible tokens.
//
// JSON: {"type": "word", "version": 1, "tokens": ["<pad>", "<unk>",
// "<bos>", "<eos>", "a", ...]}, the tokens in id order, so that a checkpoint
// carries its vocabulary.

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"

namespace vgt::models {

/// Token ids and attention mask of a batch of prompts.
struct TokenBatch {
    Tensor ids;   // int64 [B, L]
    Tensor mask;  // int64 [B, L]: 1 on a token, 0 on padding
};

namespace detail {

/// Decodes the UTF-8 character starting at text[at]: its code point and
/// length, or length 0 when the bytes there are not valid UTF-8 (overlong
/// forms, surrogates and code points past U+10FFFF included).
inline std::pair<char32_t, std::size_t> decode_utf8(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(at);
    if (lead < 0x80) return {lead, 1};
    std::size_t length = 0;
    char32_t code = 0, minimum = 0;
    if ((lead & 0xE0) == 0xC0)
        length = 2, code = lead & 0x1F, minimum = 0x80;
    else if ((lead & 0xF0) == 0xE0)
        length = 3, code = lead & 0x0F, minimum = 0x800;
    else if ((lead & 0xF8) == 0xF0)
        length = 4, code = lead & 0x07, minimum = 0x10000;
    else
        return {0, 0};
    if (at + length > text.size()) return {0, 0};
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(at + i) & 0xC0) != 0x80) return {0, 0};
        code = (code << 6) | (byte(at + i) & 0x3F);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return {0, 0};
    return {code, length};
}

/// Characters that separate words besides ASCII non-alphanumerics: Latin-1
/// punctuation and symbols, ×, ÷, general punctuation through the
/// miscellaneous symbols and arrows (U+2000–U+2BFF), CJK symbols and
/// punctuation, vertical and small forms, and the fullwidth ASCII
/// punctuation.
inline bool is_separator(char32_t c) {
    if (c < 0x80) return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    return (c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
           (c >= 0xFE10 && c <= 0xFE1F) || (c >= 0xFE30 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65);
}

}  // namespace detail

class Tokenizer {
public:
    static constexpr std::int64_t pad_id = 0;
    static constexpr std::int64_t unk_id = 1;
    static constexpr std::int64_t bos_id = 2;
    static constexpr std::int64_t eos_id = 3;
    static constexpr std::int64_t special_count = 4;
    static constexpr std::array<std::string_view, 4> special_tokens = {"<pad>", "<unk>", "<bos>", "<eos>"};

    /// The words of `text` by the rules at the top of this header; throws
    /// vgt::Error when the text is not UTF-8.
    static std::vector<std::string> split_words(std::string_view text) {
        std::vector<std::string> words;
        std::string current;
        for (std::size_t at = 0; at < text.size();) {
            const auto [code, length] = detail::decode_utf8(text, at);
            VGT_CHECK(length > 0, "Tokenizer", "expected UTF-8 text, found an invalid byte 0x{:02x} at offset {}",
                      static_cast<unsigned char>(text[at]), at);
            if (detail::is_separator(code)) {
                if (!current.empty()) words.push_back(std::move(current));
                current.clear();
            } else if (code >= 'A' && code <= 'Z') {
                current += static_cast<char>(code - 'A' + 'a');
            } else {
                current.append(text.substr(at, length));
            }
            at += length;
        }
        if (!current.empty()) words.push_back(std::move(current));
        return words;
    }

    /// The vocabulary of `captions`: the special tokens and the most frequent
    /// words, vocab_limit tokens at most. At least one word is required.
    static Tokenizer from_captions(const std::vector<std::string>& captions, std::int64_t vocab_limit) {
        constexpr const char* op = "Tokenizer::from_captions";
        VGT_CHECK(vocab_limit > special_count, op,
                  "expected a vocab_limit above the {} special tokens (room for one word at least), found {}",
                  special_count, vocab_limit);
        std::map<std::string, std::int64_t> counts;
        for (const std::string& caption : captions)
            for (std::string& word : split_words(caption)) ++counts[std::move(word)];
        VGT_CHECK(!counts.empty(), op,
                  "expected captions with at least one word, found {} captions and no words (an "
                  "empty vocabulary)",
                  captions.size());
        std::vector<std::pair<std::string, std::int64_t>> ranked(counts.begin(), counts.end());
        // counts is sorted by word, so a stable sort by count keeps ties in byte order.
        std::stable_sort(ranked.begin(), ranked.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        const auto words = std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(vocab_limit - special_count));
        std::vector<std::string> tokens(special_tokens.begin(), special_tokens.end());
        for (std::size_t i = 0; i < words; ++i) tokens.push_back(std::move(ranked[i].first));
        return Tokenizer(std::move(tokens));
    }

    /// A tokenizer written by to_json(); every token is checked.
    static Tokenizer from_json(const nlohmann::json& j) {
        constexpr const char* op = "Tokenizer::from_json";
        VGT_CHECK(j.is_object(), op, "expected a JSON object, found {}", j.type_name());
        for (const auto& [key, value] : j.items())
            VGT_CHECK(key == "type" || key == "version" || key == "tokens", op,
                      "expected the keys type, version and tokens, found an unknown key '{}'", key);
        VGT_CHECK(j.contains("type") && j["type"] == "word", op, "expected \"type\": \"word\", found {}",
                  j.contains("type") ? j["type"].dump() : "no type");
        VGT_CHECK(j.contains("version") && j["version"] == 1, op, "expected \"version\": 1, found {}",
                  j.contains("version") ? j["version"].dump() : "no version");
        VGT_CHECK(j.contains("tokens") && j["tokens"].is_array(), op,
                  "expected \"tokens\": an array of strings, found {}",
                  j.contains("tokens") ? j["tokens"].type_name() : "no tokens");
        const nlohmann::json& list = j["tokens"];
        std::vector<std::string> tokens;
        for (std::size_t i = 0; i < list.size(); ++i) {
            VGT_CHECK(list[i].is_string(), op, "expected token {} to be a string, found {}", i, list[i].type_name());
            tokens.push_back(list[i].get<std::string>());
        }
        VGT_CHECK(tokens.size() > static_cast<std::size_t>(special_count), op,
                  "expected the {} special tokens and at least one word, found {} tokens (an empty vocabulary)",
                  special_count, tokens.size());
        for (std::size_t i = 0; i < static_cast<std::size_t>(special_count); ++i)
            VGT_CHECK(tokens[i] == special_tokens[i], op, "expected token {} to be '{}', found '{}'", i,
                      special_tokens[i], tokens[i]);
        for (std::size_t i = static_cast<std::size_t>(special_count); i < tokens.size(); ++i) {
            const std::vector<std::string> split = split_words(tokens[i]);
            VGT_CHECK(split.size() == 1 && split[0] == tokens[i], op,
                      "expected token {} to be one lowercase word, found '{}'", i, tokens[i]);
        }
        Tokenizer tokenizer(std::move(tokens));
        VGT_CHECK(tokenizer.ids_.size() == tokenizer.tokens_.size(), op, "expected each token once, found duplicates");
        return tokenizer;
    }

    nlohmann::json to_json() const { return nlohmann::json{{"type", "word"}, {"version", 1}, {"tokens", tokens_}}; }

    /// Number of tokens, the special ones included.
    std::int64_t size() const { return static_cast<std::int64_t>(tokens_.size()); }

    /// The id of a word (already lowercase, as split_words gives it), or unk_id.
    std::int64_t id(std::string_view word) const {
        const auto it = ids_.find(std::string(word));
        return it == ids_.end() ? unk_id : it->second;
    }

    const std::string& token(std::int64_t id) const {
        VGT_CHECK(id >= 0 && id < size(), "Tokenizer::token", "expected a token id in [0, {}), found {}", size(), id);
        return tokens_[static_cast<std::size_t>(id)];
    }

    /// The ids of the words of `text`, without <bos>, <eos> or padding.
    std::vector<std::int64_t> word_ids(std::string_view text) const {
        std::vector<std::int64_t> out;
        for (const std::string& word : split_words(text)) out.push_back(id(word));
        return out;
    }

    /// Ids [B, max_length] and mask of prompts, as described at the top.
    TokenBatch encode(const std::vector<std::string>& texts, std::int64_t max_length) const {
        VGT_CHECK(max_length >= 2, "Tokenizer::encode",
                  "expected a max_length of at least 2 (<bos> and <eos>), found {}", max_length);
        const auto batch = static_cast<std::int64_t>(texts.size());
        std::vector<std::int64_t> ids(static_cast<std::size_t>(batch * max_length), pad_id);
        std::vector<std::int64_t> mask(ids.size(), 0);
        for (std::int64_t b = 0; b < batch; ++b) {
            std::vector<std::int64_t> row = word_ids(texts[static_cast<std::size_t>(b)]);
            if (static_cast<std::int64_t>(row.size()) > max_length - 2)
                row.resize(static_cast<std::size_t>(max_length - 2));
            row.insert(row.begin(), bos_id);
            row.push_back(eos_id);
            for (std::size_t i = 0; i < row.size(); ++i) {
                ids[static_cast<std::size_t>(b * max_length) + i] = row[i];
                mask[static_cast<std::size_t>(b * max_length) + i] = 1;
            }
        }
        return {Tensor::from_vector(ids, Shape{batch, max_length}),
                Tensor::from_vector(mask, Shape{batch, max_length})};
    }

    /// The tokens of ids joined by spaces, <pad>, <bos> and <eos> left out
    /// (<unk> shown, so that a reader sees what the vocabulary lacked).
    std::string decode(const std::vector<std::int64_t>& ids) const {
        std::string out;
        for (std::int64_t id : ids) {
            const std::string& t = token(id);
            if (id == pad_id || id == bos_id || id == eos_id) continue;
            if (!out.empty()) out += ' ';
            out += t;
        }
        return out;
    }

    const std::vector<std::string>& tokens() const { return tokens_; }

    friend bool operator==(const Tokenizer& a, const Tokenizer& b) { return a.tokens_ == b.tokens_; }

private:
    explicit Tokenizer(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
        for (std::size_t i = 0; i < tokens_.size(); ++i) ids_.emplace(tokens_[i], static_cast<std::int64_t>(i));
    }

    std::vector<std::string> tokens_;
    std::unordered_map<std::string, std::int64_t> ids_;
};

}  // namespace vgt::models
