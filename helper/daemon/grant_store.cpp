// SPDX-License-Identifier: ISC
#include "helper/daemon/grant_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/file_io.hpp"
#include "common/json_build.hpp"
#include "common/json_parse.hpp"

namespace bg {
namespace {

using json = nlohmann::json;
constexpr std::size_t kMaxStateBytes = 64 * 1024 * 1024;


GrantState parse_state(const std::string& s) {
    if (s == "active") return GrantState::Active;
    if (s == "revoked") return GrantState::Revoked;
    if (s == "expired") return GrantState::Expired;
    if (s == "void") return GrantState::Void;
    throw std::runtime_error("bad grant state");
}

}  // namespace

std::string_view grant_state_name(GrantState s) {
    switch (s) {
        case GrantState::Active: return "active";
        case GrantState::Revoked: return "revoked";
        case GrantState::Expired: return "expired";
        case GrantState::Void: return "void";
    }
    return "unknown";
}

GrantState state_after(std::string_view end_event) {
    if (end_event == "revoke") return GrantState::Revoked;
    if (end_event == "grant_void") return GrantState::Void;
    return GrantState::Expired;
}

GrantStore GrantStore::load(const std::string& state_dir, std::string* rebuilt_reason) {
    GrantStore store;
    store.dir_ = state_dir;
    store.path_ = state_dir + "/state.json";
    int open_errno = 0;
    auto text = read_regular_file(store.path_, kMaxStateBytes, &open_errno);
    if (!text) {
        if (open_errno != ENOENT && rebuilt_reason) *rebuilt_reason = text.error().message;
        return store;
    }
    try {
        json j;
        const EmptiedBeforeDestruction emptied(j);
        if (parse_into(*text, j) != JsonParse::Ok) throw std::runtime_error("not valid JSON");
        if (j.at("version").get<int>() != 1) throw std::runtime_error("unknown version");
        GrantStore loaded;
        loaded.dir_ = store.dir_;
        loaded.path_ = store.path_;
        loaded.applied_seq_ = j.at("applied_seq").get<std::uint64_t>();
        for (const json& g : j.at("grants")) {
            Grant grant;
            grant.event_id = g.at("event_id").get<std::string>();
            grant.user = g.at("user").get<std::string>();
            grant.gate = g.at("gate").get<std::string>();
            grant.account = g.value("account", std::string());  // absent in checkpoints written before it existed
            grant.reason = g.at("reason").get<std::string>();
            grant.incident = g.at("incident").get<std::string>();
            grant.granted_at = g.at("granted_at").get<std::int64_t>();
            grant.expires_at = g.at("expires_at").get<std::int64_t>();
            grant.ended_at = g.at("ended_at").get<std::int64_t>();
            grant.state = parse_state(g.at("state").get<std::string>());
            loaded.grants_.push_back(std::move(grant));
        }
        for (const json& c : j.at("factor_counters"))
            loaded.factor_counters_[{c.at("user").get<std::string>(), c.at("factor").get<std::string>()}] =
                c.at("counter").get<std::uint64_t>();
        return loaded;
    } catch (const std::exception& e) {
        if (rebuilt_reason) *rebuilt_reason = store.path_ + ": damaged (" + e.what() + ")";
        return store;  // empty: the caller rebuilds everything from the audit log
    }
}

const Grant* GrantStore::active_for(const std::string& user, const std::string& gate, std::int64_t now) const {
    for (const Grant& g : grants_)
        if (g.state == GrantState::Active && g.user == user && g.gate == gate && now < g.expires_at &&
            !held(g.event_id))
            return &g;
    return nullptr;
}

const Grant* GrantStore::held_for(const std::string& user, const std::string& gate) const {
    for (const Grant& g : grants_)
        if (g.state == GrantState::Active && g.user == user && g.gate == gate && held(g.event_id)) return &g;
    return nullptr;
}

bool opens_account(const Grant& g, const std::string& account) {
    if (account.empty()) return true;
    return g.account.empty() ? account == g.user : account == g.account;
}

const Grant* GrantStore::active_for(const std::string& user, const std::string& gate, const std::string& account,
                                    std::int64_t now) const {
    const Grant* g = active_for(user, gate, now);
    return g != nullptr && opens_account(*g, account) ? g : nullptr;
}

const Grant* GrantStore::find(const std::string& event_id) const {
    for (const Grant& g : grants_)
        if (g.event_id == event_id) return &g;
    return nullptr;
}

std::vector<Grant> GrantStore::active() const {
    std::vector<Grant> out;
    for (const Grant& g : grants_)
        if (g.state == GrantState::Active) out.push_back(g);
    return out;
}

std::optional<std::int64_t> GrantStore::earliest_expiry() const {
    std::optional<std::int64_t> next;
    for (const Grant& g : grants_)
        if (g.state == GrantState::Active && (!next || g.expires_at < *next)) next = g.expires_at;
    return next;
}

std::vector<Grant> GrantStore::list(bool include_ended, const std::string& user) const {
    std::vector<Grant> out;
    for (auto it = grants_.rbegin(); it != grants_.rend(); ++it) {
        if (!include_ended && it->state != GrantState::Active) continue;
        if (!user.empty() && it->user != user) continue;
        out.push_back(*it);
    }
    return out;
}

void GrantStore::apply(const ReplayedEvent& e) {
    if (e.seq != 0 && e.seq <= applied_seq_) return;
    if (!e.factor.empty() && e.factor_counter != 0 && !e.actor.empty()) {
        auto& counter = factor_counters_[{e.actor, e.factor}];
        counter = std::max(counter, e.factor_counter);
    }
    if (e.event == "grant") {
        Grant g;
        g.event_id = e.event_id;
        g.user = e.actor;
        g.gate = e.gate;
        g.account = e.account;
        g.reason = e.reason;
        g.incident = e.incident;
        g.granted_at = e.timestamp;
        g.expires_at = e.expires_at;
        const auto ended = ended_before_seen_.find(g.event_id);
        if (ended != ended_before_seen_.end()) {
            g.state = ended->second.first;
            g.ended_at = ended->second.second;
        }
        grants_.push_back(std::move(g));
        if (ended != ended_before_seen_.end()) ended_before_seen_.erase(ended);
    } else if (e.event == "revoke" || e.event == "expire" || e.event == "grant_void") {
        for (Grant& g : grants_) {
            if (g.event_id == e.grant_id && g.state == GrantState::Active) {
                g.state = state_after(e.event);
                g.ended_at = e.timestamp;
            }
        }
    }
    if (e.seq != 0) applied_seq_ = e.seq;
    // Forget the oldest ended grants beyond the cap; the log keeps them.
    std::size_t ended = static_cast<std::size_t>(
        std::count_if(grants_.begin(), grants_.end(), [](const Grant& g) { return g.state != GrantState::Active; }));
    for (auto it = grants_.begin(); ended > kEndedGrantsKept && it != grants_.end();) {
        if (it->state != GrantState::Active) {
            it = grants_.erase(it);
            --ended;
        } else {
            ++it;
        }
    }
}

bool GrantStore::end(const std::string& grant_id, GrantState state, std::int64_t at) {
    for (Grant& g : grants_) {
        if (g.event_id != grant_id || g.state != GrantState::Active) continue;
        g.state = state;
        g.ended_at = at;
        return true;
    }
    return false;
}

void GrantStore::recorded(const audit::Record& r) {
    ReplayedEvent e;
    e.seq = r.seq;
    e.event = r.event;
    e.event_id = r.event_id;
    e.grant_id = r.grant_id;
    e.actor = r.actor;
    e.gate = r.gate_bypassed;
    if (r.event == "grant" && r.action.starts_with(kPamActionPrefix)) e.account = r.target;
    e.reason = r.reason;
    e.incident = r.incident_ref;
    e.timestamp = r.timestamp;
    e.expires_at = r.expires_at;
    e.factor = r.factor;
    e.factor_counter = r.factor_counter;
    apply(e);
}

std::uint64_t GrantStore::last_factor_counter(const std::string& user, const std::string& factor) const {
    const auto it = factor_counters_.find({user, factor});
    return it == factor_counters_.end() ? 0 : it->second;
}

std::string GrantStore::serialize() const {
    // Built and freed without nlohmann's initializer lists or destructor
    // allocating (common/json_build.hpp): this runs on the loop every second.
    json grants = json::array();
    for (const Grant& g : grants_)
        grants.push_back(JsonObject()("event_id", g.event_id)("user", g.user)("gate", g.gate)("account", g.account)(
                             "reason", g.reason)("incident", g.incident)("granted_at", g.granted_at)(
                             "expires_at", g.expires_at)("ended_at", g.ended_at)(
                             "state", std::string(grant_state_name(g.state)))
                             .take());
    json counters = json::array();
    for (const auto& [key, counter] : factor_counters_)
        counters.push_back(JsonObject()("user", key.first)("factor", key.second)("counter", counter).take());
    json j = JsonObject()("version", 1)("applied_seq", applied_seq_)("grants", std::move(grants))(
                 "factor_counters", std::move(counters))
                 .take();
    const EmptiedBeforeDestruction emptied(j);
    return j.dump() + "\n";
}

Status GrantStore::write_checkpoint(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return make_error("cannot write " + tmp + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error("cannot write " + tmp + ": " + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    if (::fdatasync(fd.get()) != 0) return make_error("cannot sync " + tmp + ": " + std::strerror(errno));
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return make_error("cannot replace " + path + ": " + std::strerror(errno));
    // The directory entry is not fsync'd: the audit log is the durable truth
    // and a lost rename only means more records are re-applied on start.
    return Ok{};
}

Status GrantStore::checkpoint() const { return write_checkpoint(path_, serialize()); }

}  // namespace bg
