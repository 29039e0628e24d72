#pragma once
// Reading gzip-compressed bytes (RFC 1952) through zlib, incrementally, so a
// reader can validate a file's header before it allocates for the data.
//
// zlib is optional at build time (CMake's VGT_WITH_ZLIB defines the macro of
// the same name and links zlib): a build without it still reads everything
// that is not compressed, and a gzip stream is a vgt::Error saying how to get
// a build that reads it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "vgt/core/error.hpp"

#if defined(VGT_WITH_ZLIB)
#include <zlib.h>
#endif

namespace vgt::io {

/// Whether this build can decompress gzip streams.
inline constexpr bool kHaveGzip =
#if defined(VGT_WITH_ZLIB)
    true;
#else
    false;
#endif

/// Whether `bytes` start with the gzip magic number 1f 8b.
inline bool is_gzip(std::span<const std::byte> bytes) {
    return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

/// Deflate never expands data more than about 1032:1 (a 258-byte match
/// coded in 2 bits, for the longest runs), so the decompressed size of a
/// gzip stream is bounded by its compressed size: what a reader checks a
/// header's claimed size against before allocating.
inline constexpr std::uint64_t kMaxDeflateRatio = 1032;

/// Decompresses a gzip stream held in memory, piece by piece. All members of
/// a multi-member stream (as `cat a.gz b.gz` makes) are read in order.
/// Corrupt data (bad header, bad deflate codes, a checksum or length that
/// does not match, bytes after the last member that are not another member)
/// throws vgt::Error naming `op` and `source`. A stream that ends early is
/// not an error here: read() returns fewer bytes and truncated() says so, so
/// that the caller can say what it expected.
class GzipReader {
public:
    GzipReader(std::span<const std::byte> compressed, std::string_view op, std::string_view source)
        : in_(compressed), op_(op), source_(source) {
#if defined(VGT_WITH_ZLIB)
        stream_.zalloc = Z_NULL;
        stream_.zfree = Z_NULL;
        stream_.opaque = Z_NULL;
        stream_.next_in = Z_NULL;
        stream_.avail_in = 0;
        // 16 + MAX_WBITS: a gzip wrapper (not zlib's), with its CRC-32 and length checked.
        const int status = inflateInit2(&stream_, 16 + MAX_WBITS);
        VGT_CHECK(status == Z_OK, op_, "'{}': expected to start zlib's inflater, found zlib error {}", source_, status);
#else
        fail(op_,
             "'{}': expected uncompressed data, found a gzip stream, and this build of vgt reads no gzip: configure "
             "with -DVGT_WITH_ZLIB=ON (needs Debian's zlib1g-dev), or decompress the file with gunzip",
             source_);
#endif
    }
    ~GzipReader() {
#if defined(VGT_WITH_ZLIB)
        inflateEnd(&stream_);
#endif
    }
    GzipReader(const GzipReader&) = delete;
    GzipReader& operator=(const GzipReader&) = delete;

    /// Writes up to `n` decompressed bytes to `dst` and returns how many:
    /// fewer than `n` only at the end of the stream (a clean end, or a
    /// truncated one: see truncated()).
    std::size_t read(std::byte* dst, std::size_t n) {
#if defined(VGT_WITH_ZLIB)
        std::size_t produced = 0;
        while (produced < n) {
            if (member_ended_) {
                if (consumed_ == in_.size()) return produced;  // a clean end
                if (!is_gzip(in_.subspan(consumed_)))
                    fail(op_, "'{}': expected the end of the gzip stream or another gzip member at compressed byte {}, "
                              "found {} trailing bytes",
                         source_, consumed_, in_.size() - consumed_);
                VGT_CHECK(inflateReset(&stream_) == Z_OK, op_, "'{}': expected to restart zlib's inflater, found an error",
                          source_);
                member_ended_ = false;
            }
            // zlib counts in uInt: feed at most 1 GiB at a time. With no input
            // left, inflate still hands out output it holds back.
            constexpr std::size_t kChunk = std::size_t{1} << 30;
            const std::size_t in_chunk = std::min(in_.size() - consumed_, kChunk);
            const std::size_t out_chunk = std::min(n - produced, kChunk);
            // zlib's interface is not const-correct; it never writes through next_in.
            stream_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in_.data() + consumed_));
            stream_.avail_in = static_cast<uInt>(in_chunk);
            stream_.next_out = reinterpret_cast<Bytef*>(dst + produced);
            stream_.avail_out = static_cast<uInt>(out_chunk);
            const int status = inflate(&stream_, Z_NO_FLUSH);
            consumed_ += in_chunk - stream_.avail_in;
            produced += out_chunk - stream_.avail_out;
            if (status == Z_STREAM_END) {
                member_ended_ = true;
            } else if (status == Z_BUF_ERROR) {
                // No progress possible: the input ran out inside a member.
                VGT_CHECK(consumed_ == in_.size(), op_,
                          "'{}': expected zlib's inflater to make progress, found none at compressed byte {}", source_,
                          consumed_);
                truncated_ = true;
                return produced;
            } else if (status != Z_OK) {
                fail(op_, "'{}': expected a valid gzip stream, found corrupt data before compressed byte {} ({})",
                     source_, consumed_, describe(status));
            }
        }
        return produced;
#else
        (void)dst;
        (void)n;
        return 0;
#endif
    }

    /// Whether the compressed input ended inside a member (before its
    /// end-of-data code, CRC-32 and length).
    bool truncated() const { return truncated_; }

    /// An upper bound of the decompressed bytes still to come.
    std::uint64_t max_remaining() const {
        const std::uint64_t left = in_.size() - consumed_;
        // Bytes already inflated but not yet handed out sit in zlib's window,
        // which is at most 32 KiB.
        constexpr std::uint64_t kWindow = std::uint64_t{1} << 15;
        if (left > (std::numeric_limits<std::uint64_t>::max() - kWindow) / kMaxDeflateRatio)
            return std::numeric_limits<std::uint64_t>::max();
        return left * kMaxDeflateRatio + kWindow;
    }

private:
#if defined(VGT_WITH_ZLIB)
    std::string describe(int status) const {
        std::string text = stream_.msg != nullptr ? std::string(stream_.msg) : std::string();
        if (status == Z_NEED_DICT) text = "a preset dictionary, which gzip does not use";
        else if (status == Z_MEM_ERROR) text = "out of memory";
        if (text.empty()) text = "zlib error " + std::to_string(status);
        return "zlib: " + text;
    }

    z_stream stream_{};
    bool member_ended_ = false;
#endif
    std::span<const std::byte> in_;
    std::string op_;
    std::string source_;
    std::size_t consumed_ = 0;
    bool truncated_ = false;
};

}  // namespace vgt::io
