// SPDX-License-Identifier: ISC
#include "helper/ship/cursor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/file_io.hpp"
#include "common/text.hpp"

namespace bg::ship {
namespace {

constexpr std::string_view kMagic = "breakglass-sink-cursor 1\n";

bool take_line(std::string_view& text, std::string_view prefix, std::string_view* value) {
    if (text.substr(0, prefix.size()) != prefix) return false;
    const std::size_t nl = text.find('\n', prefix.size());
    if (nl == std::string_view::npos) return false;
    *value = text.substr(prefix.size(), nl - prefix.size());
    text.remove_prefix(nl + 1);
    return true;
}

}  // namespace

std::string render_cursor(const Cursor& c) {
    return std::string(kMagic) + "url=" + c.url + "\nacked_seq=" + std::to_string(c.acked_seq) + "\n";
}

Result<Cursor> parse_cursor(std::string_view text) {
    if (text.size() > kMaxCursorBytes) return Error{"the cursor file is larger than 1 KiB"};
    if (text.substr(0, kMagic.size()) != kMagic) return Error{"the cursor file does not start with its header"};
    text.remove_prefix(kMagic.size());
    Cursor c;
    std::string_view url, seq;
    if (!take_line(text, "url=", &url)) return Error{"the cursor file has no url= line"};
    for (const char ch : url)
        if (static_cast<unsigned char>(ch) <= ' ' || static_cast<unsigned char>(ch) > '~')
            return Error{"the cursor's url holds a space, a control or a non-ASCII byte"};
    if (url.empty()) return Error{"the cursor's url is empty"};
    if (!take_line(text, "acked_seq=", &seq)) return Error{"the cursor file has no acked_seq= line"};
    if (seq.empty() || seq.size() > 20 || (seq.size() > 1 && seq.front() == '0'))
        return Error{"the cursor's acked_seq is not a decimal number"};
    const auto [end, ec] = std::from_chars(seq.data(), seq.data() + seq.size(), c.acked_seq);
    if (ec != std::errc() || end != seq.data() + seq.size()) return Error{"the cursor's acked_seq is not a decimal number"};
    if (!text.empty()) return Error{"the cursor file has something after acked_seq"};
    c.url = std::string(url);
    return c;
}

Result<Cursor> load_cursor(const std::string& path, const std::string& url, bool* reset) {
    if (reset) *reset = false;
    int open_errno = 0;
    auto text = read_regular_file(path, kMaxCursorBytes, &open_errno);
    if (!text) {
        if (open_errno == ENOENT) return Cursor{url, 0};
        return Error{text.error().message};
    }
    auto c = parse_cursor(*text);
    if (!c) return Error{path + ": " + c.error().message + "; remove it to ship this sink's records again from seq 1"};
    if (c->url != url) {
        if (reset) *reset = true;
        return Cursor{url, 0};
    }
    return c;
}

Status store_cursor(const std::string& path, const Cursor& c) {
    const std::string tmp = path + ".new";
    const std::string text = render_cursor(c);
    ::unlink(tmp.c_str());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return Error{"cannot create " + tmp + ": " + std::strerror(errno)};
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t w = ::write(fd.get(), text.data() + done, text.size() - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return Error{"cannot write " + tmp + ": " + std::strerror(errno)};
        }
        done += static_cast<std::size_t>(w);
    }
    if (::fsync(fd.get()) != 0) return Error{"cannot fsync " + tmp + ": " + std::strerror(errno)};
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) return Error{"cannot rename " + tmp + ": " + std::strerror(errno)};
    const std::string dir = path.substr(0, path.rfind('/'));
    UniqueFd dfd(::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.valid()) (void)::fsync(dfd.get());
    return Ok{};
}

}  // namespace bg::ship
