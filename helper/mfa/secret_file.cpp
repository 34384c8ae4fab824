// SPDX-License-Identifier: ISC
#include "helper/mfa/secret_file.hpp"

#include "common/file_io.hpp"
#include "common/json_build.hpp"
#include "common/json_parse.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace bg::mfa {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

Error file_error(const std::string& label, const std::string& path, const std::string& what) {
    return make_error(label + " " + path + ": " + what);
}

bool write_all(int fd, std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::string octal_mode(mode_t mode) {
    return std::to_string((mode >> 6) & 7) + std::to_string((mode >> 3) & 7) + std::to_string(mode & 7);
}

}  // namespace

void wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

namespace {

void wipe_strings(nlohmann::json& j) noexcept {
    if (j.is_string()) {
        wipe(j.get_ref<std::string&>());
    } else if (j.is_structured()) {
        for (auto& child : j) wipe_strings(child);
    }
}

}  // namespace

void wipe(nlohmann::json& j) noexcept {
    wipe_strings(j);
    // Emptied too: nlohmann's destructor would allocate (common/json_build.hpp).
    empty_bottom_up(j, 8);
}

Result<SecretFileState> read_secret_file(const std::string& label, const std::string& path,
                                         std::size_t max_bytes, std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) {
        const int err = errno;
        if (err == ENOENT) return SecretFileState::Missing;
        if (err == ELOOP) return file_error(label, path, "is a symbolic link; replace it with a regular file");
        return file_error(label, path, "cannot open: " + errno_text(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return file_error(label, path, "cannot stat: " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return file_error(label, path, "is not a regular file");
    if (st.st_uid != ::geteuid()) {
        return file_error(label, path,
                          "is owned by uid " + std::to_string(st.st_uid) + ", expected uid " +
                              std::to_string(::geteuid()) + "; chown it");
    }
    if ((st.st_mode & 077) != 0) {
        return file_error(label, path,
                          "is accessible by group or others (mode " + octal_mode(st.st_mode) +
                              "); run chmod 0600 on it and consider re-enrolling, the secrets may have leaked");
    }
    if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        return file_error(label, path, "is larger than " + std::to_string(max_bytes) + " bytes");
    }

    std::string buffer;
    ScopedWipe<std::string> wiper(buffer);
    buffer.resize(static_cast<std::size_t>(st.st_size) + 1);  // +1 notices growth since fstat
    std::size_t used = 0;
    while (used < buffer.size()) {
        const ssize_t n = ::read(fd.get(), buffer.data() + used, buffer.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            return file_error(label, path, "cannot read: " + errno_text(errno));
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    if (used > static_cast<std::size_t>(st.st_size)) return file_error(label, path, "changed while being read; retry");
    wipe(text);
    text.assign(buffer.data(), used);
    return SecretFileState::Read;
}

Status write_secret_file(const std::string& label, const std::string& dir, const std::string& file_name,
                         std::string_view text) {
    const std::string path = dir + "/" + file_name;
    // mkostemp creates the file 0600, so the secrets are never visible to others.
    std::string temp_path = dir + "/." + file_name + ".XXXXXX";
    UniqueFd fd(::mkostemp(temp_path.data(), O_CLOEXEC));
    if (!fd.valid()) {
        return file_error(label, path, "cannot create a temporary file in " + dir + ": " + errno_text(errno));
    }
    const auto fail = [&](const std::string& what) {
        const int err = errno;
        ::unlink(temp_path.c_str());
        return Status(file_error(label, path, what + ": " + errno_text(err)));
    };
    if (::fchmod(fd.get(), 0600) != 0) return fail("cannot set mode 0600");
    if (!write_all(fd.get(), text)) return fail("cannot write");
    if (::fsync(fd.get()) != 0) return fail("cannot fsync");
    // close() reports deferred write errors, so its result counts.
    if (::close(fd.release()) != 0) return fail("cannot close");
    if (::rename(temp_path.c_str(), path.c_str()) != 0) return fail("cannot rename into place");

    // The rename is durable only once the directory entry is on disk.
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid()) return file_error(label, path, "cannot open directory to fsync: " + errno_text(errno));
    if (::fsync(dir_fd.get()) != 0) return file_error(label, path, "cannot fsync directory: " + errno_text(errno));
    return Ok{};
}

Status write_secret_json(const std::string& label, const std::string& dir, const std::string& file_name,
                         const nlohmann::json& doc) {
    std::string dumped = doc.dump(2);
    ScopedWipe<std::string> dumped_wiper(dumped);
    std::string text;
    ScopedWipe<std::string> text_wiper(text);
    text.reserve(dumped.size() + 1);  // appending must not reallocate and strand a copy
    text.append(dumped);
    text.push_back('\n');
    return write_secret_file(label, dir, file_name, text);
}

Result<SecretFileState> read_secret_document(const std::string& label, const std::string& path,
                                             std::size_t max_bytes, int version, const char* collection,
                                             const std::string& restore_hint, nlohmann::json& doc) {
    const auto fail = [&](const std::string& what) { return make_error(label + " " + path + ": " + what + restore_hint); };
    std::string text;
    ScopedWipe<std::string> text_wiper(text);
    const auto read = read_secret_file(label, path, max_bytes, text);
    if (!read) return read.error();
    if (*read == SecretFileState::Missing) return SecretFileState::Missing;
    // Into the caller's document, which it wipes and empties on every path,
    // a half-parsed one too (common/json_parse.hpp).
    if (parse_into(text, doc) != JsonParse::Ok) return fail("is not valid JSON");
    if (!doc.is_object()) return fail("top level is not an object");
    const auto v = doc.find("version");
    if (v == doc.end() || !v->is_number_integer() || v->get<int>() != version)
        return fail("has no supported \"version\" (expected " + std::to_string(version) + ")");
    const auto c = doc.find(collection);
    if (c == doc.end() || !c->is_object()) return fail(std::string("has no \"") + collection + "\" object");
    return SecretFileState::Read;
}

}  // namespace bg::mfa
