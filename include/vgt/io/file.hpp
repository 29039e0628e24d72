#pragma once
// Whole-file reads, read-only memory maps and atomic writes, shared by the
// file formats in io/. Failures are vgt::Error naming the caller's operation,
// the path and the system's reason.

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"

#if defined(_WIN32)
#include <io.h>
#include <process.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace vgt::io::detail {

inline std::string errno_text(int err) { return std::generic_category().message(err); }

/// Printable excerpt of untrusted bytes for error messages.
inline std::string escaped(std::string_view text, std::size_t limit = 120) {
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else if (c == '\n') out += "\\n";
        else out += fmt::format("\\x{:02x}", c);
    }
    if (text.size() > limit) out += "...";
    return out;
}

/// All bytes of a file. `what` says what the file should be ("a .npy file").
inline std::vector<std::byte> read_file(const std::string& path, std::string_view op, std::string_view what) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    VGT_CHECK(file != nullptr, op, "'{}': expected {} to read, found none ({})", path, what, errno_text(errno));
    std::vector<std::byte> bytes;
    std::byte chunk[1 << 16];
    std::size_t got = 0;
    while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
    const bool failed = std::ferror(file) != 0;
    const int err = errno;
    std::fclose(file);
    VGT_CHECK(!failed, op, "'{}': expected {} to read, found a read error ({})", path, what, errno_text(err));
    return bytes;
}

/// A regular file mapped read-only for the lifetime of the object. The bytes
/// are only valid while the file is not truncated by someone else: readers
/// copy what they need out of it instead of keeping pointers into it.
class MappedFile {
public:
    MappedFile(const std::string& path, std::string_view op, std::string_view what) {
#if defined(_WIN32)
        fallback_ = read_file(path, op, what);
        data_ = fallback_.data();
        size_ = fallback_.size();
#else
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        VGT_CHECK(fd >= 0, op, "'{}': expected {} to read, found none ({})", path, what, errno_text(errno));
        struct stat info {};
        if (::fstat(fd, &info) != 0) {
            const int err = errno;
            ::close(fd);
            fail(op, "'{}': expected {} to read, found a stat error ({})", path, what, errno_text(err));
        }
        if (!S_ISREG(info.st_mode)) {
            ::close(fd);
            fail(op, "'{}': expected {} to read, found {}", path, what,
                 S_ISDIR(info.st_mode) ? "a directory" : "something that is not a regular file");
        }
        size_ = static_cast<std::size_t>(info.st_size);
        if (size_ > 0) {  // mmap rejects a length of zero
            void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (mapped == MAP_FAILED) {
                const int err = errno;
                ::close(fd);
                fail(op, "'{}': expected {} to map into memory, found an mmap error ({})", path, what, errno_text(err));
            }
            data_ = static_cast<const std::byte*>(mapped);
        }
        ::close(fd);  // the mapping stays valid without the descriptor
#endif
    }
    ~MappedFile() {
#if !defined(_WIN32)
        if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
#endif
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const std::byte> bytes() const { return {data_, size_}; }

private:
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
#if defined(_WIN32)
    std::vector<std::byte> fallback_;
#endif
};

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk and
/// renames it over `path`, so that a crash or a failed write leaves any
/// previous file intact. The temporary file is removed on every failure.
inline void write_file_atomically(const std::string& path, std::span<const std::byte> bytes, std::string_view op) {
#if defined(_WIN32)
    const long pid = static_cast<long>(_getpid());
#else
    const long pid = static_cast<long>(::getpid());
#endif
    // The counter keeps threads of one process that write the same path apart.
    static std::atomic<unsigned> counter{0};
    const std::string temp = fmt::format("{}.tmp-{}-{}", path, pid, counter.fetch_add(1));
    std::FILE* file = std::fopen(temp.c_str(), "wb");
    VGT_CHECK(file != nullptr, op, "'{}': expected a writable location, found an error creating '{}' ({})", path, temp,
              errno_text(errno));
    const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
    int err = errno;
    const bool flushed = wrote && std::fflush(file) == 0;
    if (wrote && !flushed) err = errno;
#if defined(_WIN32)
    const bool synced = flushed && ::_commit(::_fileno(file)) == 0;
#else
    const bool synced = flushed && ::fsync(::fileno(file)) == 0;
#endif
    if (flushed && !synced) err = errno;
    const bool closed = std::fclose(file) == 0;
    if (synced && !closed) err = errno;
    if (!(wrote && synced && closed)) {
        std::remove(temp.c_str());
        fail(op, "'{}': expected to write {} bytes, found a write error ({})", path, bytes.size(), errno_text(err));
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
        err = errno;
        std::remove(temp.c_str());
        fail(op, "'{}': expected to replace it with '{}', found a rename error ({})", path, temp, errno_text(err));
    }
#if !defined(_WIN32)
    // Make the rename itself durable. Best effort: the data is already safe,
    // and some file systems refuse to sync a directory.
    const std::size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
#endif
}

}  // namespace vgt::io::detail
