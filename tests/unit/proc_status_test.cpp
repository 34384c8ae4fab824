// SPDX-License-Identifier: ISC
// parse_proc_status on real and hand-written /proc/PID/status text, the
// grant-membership rule, and find_grant_processes on a real child process.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/text.hpp"
#include "helper/revocation/process_scan.hpp"

namespace bg {
namespace {

const std::string kSleep =
    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1234\nPid:\t1234\nPPid:\t1\n"
    "Uid:\t1000\t1001\t1002\t1001\nGid:\t2000\t2001\t2002\t2001\nFDSize:\t64\nGroups:\t27 999 \n"
    "NStgid:\t1234\nx86_Thread_features:\t\nSpeculation_Store_Bypass:\tthread vulnerable\n";

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

TEST(ProcStatus, ParsesTheFieldsItNeeds) {
    const auto s = parse_proc_status(kSleep);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->name, "sleep");
    EXPECT_EQ(s->state, 'S');
    EXPECT_EQ(s->pid, 1234);
    EXPECT_EQ(s->uid[0], 1000u);
    EXPECT_EQ(s->uid[1], 1001u);
    EXPECT_EQ(s->uid[2], 1002u);
    EXPECT_EQ(s->gid[0], 2000u);
    EXPECT_EQ(s->gid[2], 2002u);
    EXPECT_EQ(s->groups, (std::vector<gid_t>{27, 999}));
}

TEST(ProcStatus, ParsesOwnStatus) {
    std::ifstream in("/proc/self/status");
    std::ostringstream text;
    text << in.rdbuf();
    const auto s = parse_proc_status(text.str());
    ASSERT_TRUE(s) << text.str();
    EXPECT_EQ(s->pid, ::getpid());
    EXPECT_EQ(s->uid[0], ::getuid());
    EXPECT_EQ(s->gid[1], ::getegid());
}

TEST(ProcStatus, EmptyGroupsAndEscapedName) {
    auto text = replace(kSleep, "Groups:\t27 999 \n", "Groups:\t \n");
    text = replace(text, "Name:\tsleep", "Name:\tmy\\nproc");
    const auto s = parse_proc_status(text);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->groups.empty());
    EXPECT_EQ(s->name, "my\\nproc");
}

// Issue 10, item 2: a process writes what it likes to its comm, and the
// kernel escapes only '\n' and '\\' in Name. The name decides nothing.
TEST(ProcStatus, ANameWithControlBytesStillParses) {
    const auto s = parse_proc_status(replace(kSleep, "Name:\tsleep", std::string("Name:\tx\x01\x7f\x1b[2J")));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->name, std::string("x\x01\x7f\x1b[2J"));
    EXPECT_EQ(s->groups, (std::vector<gid_t>{27, 999}));
    EXPECT_EQ(s->gid[0], 2000u);
}

TEST(ProcStatus, RejectsMalformedInput) {
    const std::pair<std::string, std::string> broken[] = {
        {"Uid:\t1000\t1001\t1002\t1001\n", "Uid:\t1000\t1001\t1002\n"},           // three ids
        {"Uid:\t1000\t1001\t1002\t1001\n", "Uid:\t1000\t1001\t1002\t1001\t5\n"},  // five ids
        {"Uid:\t1000", "Uid:\t-1000"},                                           // sign
        {"Uid:\t1000", "Uid:\t99999999999"},                                     // too long
        {"Gid:\t2000", "Gid:\t 2000"},                                           // extra space
        {"Pid:\t1234", "Pid:\t0"},                                               // pid 0
        {"Pid:\t1234", "Pid:\t4194305"},                                         // above PID_MAX_LIMIT
        {"Groups:\t27 999 ", "Groups:\t27  999 "},                               // empty field
        {"Groups:\t27 999 ", "Groups:\t27,999"},                                 // wrong separator
        {"State:\tS", "State:\t?"},                                              // not a state letter
        {"Umask:\t0022\n", "Umask 0022\n"},                                      // no colon
        {"Umask:\t0022\n", "Um ask:\t0022\n"},                                   // bad key
        {"Umask:\t0022\n", ":\t0022\n"},                                         // empty key
        {"Umask:\t0022\n", "Umask:0022\n"},                                      // no separator
        {"Name:\tsleep", "Name:\t" + std::string(65, 'a')},                      // name too long
        {"Pid:\t1234\n", "Pid:\t1234\nPid:\t1234\n"},                           // repeated
        {"Groups:\t27 999 \n", ""},                                              // missing Groups
        {"Uid:\t1000\t1001\t1002\t1001\n", ""},                                  // missing Uid
    };
    for (const auto& [from, to] : broken) EXPECT_FALSE(parse_proc_status(replace(kSleep, from, to))) << to;
    EXPECT_FALSE(parse_proc_status(""));
    EXPECT_FALSE(parse_proc_status(std::string(kMaxProcStatusBytes + 1, 'a')));
}

TEST(ProcStatus, RunsUnderGrantNeedsTheActorAndTheGroup) {
    auto s = *parse_proc_status(kSleep);
    EXPECT_TRUE(runs_under_grant(s, std::nullopt, 1000, 27));    // real uid, supplementary group
    EXPECT_TRUE(runs_under_grant(s, std::nullopt, 1002, 2002));  // saved uid, saved gid
    EXPECT_TRUE(runs_under_grant(s, std::nullopt, 1001, 2001));  // effective ids
    EXPECT_FALSE(runs_under_grant(s, std::nullopt, 1000, 5));    // the user without the group
    EXPECT_FALSE(runs_under_grant(s, std::nullopt, 7, 27));      // the group, another user
    EXPECT_TRUE(runs_under_grant(s, uid_t{7}, 7, 27));           // ... whose login uid is the actor's
    s.uid[3] = 7;
    s.gid[3] = 5;
    EXPECT_FALSE(runs_under_grant(s, std::nullopt, 7, 5));  // filesystem ids alone do not count
}

TEST(ProcStatus, AnUnreadableStatusMatchesTheActorsProcesses) {
    EXPECT_TRUE(unreadable_runs_under_grant(1000, std::nullopt, 1000));  // its /proc/PID is the actor's
    EXPECT_TRUE(unreadable_runs_under_grant(0, uid_t{1000}, 1000));      // its login uid is the actor's
    EXPECT_FALSE(unreadable_runs_under_grant(0, uid_t{7}, 1000));
    EXPECT_FALSE(unreadable_runs_under_grant(7, std::nullopt, 1000));
}

TEST(ProcStatus, SetUidFrontEndsAreTheActorsRootProcesses) {
    auto s = *parse_proc_status(kSleep);
    s.uid[0] = 1000;
    s.uid[1] = s.uid[2] = s.uid[3] = 0;
    EXPECT_TRUE(is_privileged_front_end(s, 1000));
    EXPECT_FALSE(is_privileged_front_end(s, 0));     // root's own processes are not front ends
    EXPECT_FALSE(is_privileged_front_end(s, 1001));  // another user's
    s.uid[1] = 1000;  // real and effective the actor's, saved root
    EXPECT_FALSE(is_privileged_front_end(s, 1000));  // effective uid the actor's: an ordinary process
}

// A child that renames itself with control bytes is found like any other.
TEST(ProcStatus, FindsAChildWhoseNameHoldsControlBytes) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        ::prctl(PR_SET_NAME, "x\001\033[2J", 0, 0, 0);
        (void)!::write(ready[1], "r", 1);
        ::pause();
        ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);
    bool child_found = false;
    for (const GrantProcess& p : find_grant_processes(::getuid(), ::getgid()))
        if (p.pid == child) {
            child_found = true;
            EXPECT_FALSE(p.status_unreadable);
            EXPECT_EQ(p.name, escape_for_display(std::string("x\001\033[2J")));
        }
    EXPECT_TRUE(child_found);
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
}

TEST(ProcStatus, FindsAChildWithTheGroupButNeverItself) {
    const pid_t child = ::fork();
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    auto found = find_grant_processes(::getuid(), ::getgid());
    bool child_found = false;
    for (const GrantProcess& p : found) {
        EXPECT_NE(p.pid, ::getpid());
        EXPECT_NE(p.pid, 1);
        if (p.pid == child) {
            child_found = true;
            EXPECT_FALSE(has_exited(p));
            EXPECT_TRUE(signal_process(p, SIGTERM));
        }
    }
    EXPECT_TRUE(child_found);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

// A process whose leader thread has exited (SYS_exit from main) shows
// "State: Z" in /proc/PID/status while its other threads run on with the
// group: it is alive and must be found (attack report on issue 10).
TEST(ProcStatus, FindsAProcessWhoseLeaderThreadHasExited) {
    const pid_t child = ::fork();
    if (child == 0) {
        pthread_t t;
        ::pthread_create(&t, nullptr, [](void*) -> void* { for (;;) ::pause(); }, nullptr);
        ::syscall(SYS_exit, 0);  // the leader alone
        ::_exit(1);
    }
    // Wait until the leader shows as a zombie while the process lives on.
    bool zombie_leader = false;
    for (int i = 0; i < 200 && !zombie_leader; ++i) {
        std::ifstream in("/proc/" + std::to_string(child) + "/status");
        std::stringstream ss;
        ss << in.rdbuf();
        zombie_leader = ss.str().find("State:\tZ") != std::string::npos;
        if (!zombie_leader) ::usleep(10000);
    }
    ASSERT_TRUE(zombie_leader);
    bool child_found = false;
    for (const GrantProcess& p : find_grant_processes(::getuid(), ::getgid()))
        if (p.pid == child) child_found = true;
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(child_found) << "a live process whose leader thread exited is skipped as a zombie";
}

// At most pidfd_budget() pidfds are held at once (a quarter of the soft
// RLIMIT_NOFILE); a slot comes back when its holder goes.
TEST(ProcStatus, PidfdSlotsStayWithinTheBudget) {
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit low = saved;
    low.rlim_cur = 64;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    EXPECT_EQ(pidfd_budget(), 16u);
    const std::size_t before = pidfds_held();
    std::vector<PidfdSlot> slots;
    for (PidfdSlot s = PidfdSlot::take(); s; s = PidfdSlot::take()) slots.push_back(std::move(s));
    EXPECT_EQ(slots.size(), 16u - before);
    EXPECT_FALSE(PidfdSlot::take());
    slots.pop_back();
    EXPECT_TRUE(PidfdSlot::take());
    slots.clear();
    EXPECT_EQ(pidfds_held(), before);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

// Beyond the budget a process is found all the same, kept by pid, and
// signalled only while /proc shows it still matching: a pid now held by a
// process without the gate group (a reused pid) is never signalled.
TEST(ProcStatus, AProcessWithoutAPidfdIsSignalledOnlyWhileItStillMatches) {
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit low = saved;
    low.rlim_cur = 32;  // budget 8
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    std::vector<PidfdSlot> used;
    for (PidfdSlot s = PidfdSlot::take(); s; s = PidfdSlot::take()) used.push_back(std::move(s));
    const pid_t child = ::fork();
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    std::vector<GrantProcess> found = find_grant_processes(::getuid(), ::getgid());
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    GrantProcess* mine = nullptr;
    for (GrantProcess& p : found)
        if (p.pid == child) mine = &p;
    ASSERT_NE(mine, nullptr) << "a process beyond the pidfd budget was skipped";
    EXPECT_FALSE(mine->pidfd.valid());
    EXPECT_NE(mine->no_pidfd.find("pidfd budget of 8"), std::string::npos) << mine->no_pidfd;
    EXPECT_TRUE(still_matches(*mine));
    EXPECT_FALSE(has_exited(*mine));
    // The same pid, as if it now belonged to a process without the group.
    GrantProcess other;
    other.pid = child;
    other.actor_uid = ::getuid();
    other.gate_gid = ::getgid() + 4242;
    EXPECT_FALSE(still_matches(other));
    EXPECT_FALSE(signal_process(other, SIGTERM));
    EXPECT_TRUE(signal_process(*mine, SIGTERM));
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    EXPECT_TRUE(has_exited(*mine));
    EXPECT_FALSE(signal_process(*mine, SIGKILL)) << "a pid that is gone is not signalled";
}


// One scan for a batch of ended grants: each key gets what runs under it. A
// process under two of them (the same user's two gates ending together) is
// found for both, each with its own pidfd, so either termination can signal
// it whatever the other does with its copy.
TEST(ProcStatus, OneScanFindsEachBatchedGrantsProcesses) {
    if (::geteuid() != 0) GTEST_SKIP() << "sets supplementary groups: run as root";
    // Groups of this run only (two runs at once, or a process left by a run
    // that failed, would otherwise be found too); the children die with it.
    const gid_t kGateA = 0x70000000u + static_cast<gid_t>(::getpid()) * 4u, kGateB = kGateA + 1, kGateC = kGateA + 2;
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t both = ::fork();
    if (both == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        const gid_t groups[] = {kGateA, kGateB};
        if (::setgroups(2, groups) != 0) ::_exit(1);
        (void)!::write(ready[1], "r", 1);
        ::pause();
        ::_exit(0);
    }
    const pid_t only_a = ::fork();
    if (only_a == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        const gid_t groups[] = {kGateA};
        if (::setgroups(1, groups) != 0) ::_exit(1);
        (void)!::write(ready[1], "r", 1);
        ::pause();
        ::_exit(0);
    }
    char c[2] = {};
    ASSERT_EQ(::read(ready[0], c, 1), 1);
    ASSERT_EQ(::read(ready[0], c + 1, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);

    const uid_t uid = ::getuid();
    std::vector<std::vector<GrantProcess>> found(3);
    scan_grant_processes(std::vector<ScanKey>{{uid, kGateA}, {uid, kGateB}, {uid, kGateC}},
                         [&](std::size_t key, GrantProcess&& p) {
                             ASSERT_LT(key, found.size());
                             found[key].push_back(std::move(p));
                         });
    const auto pids = [](const std::vector<GrantProcess>& v) {
        std::vector<pid_t> out;
        for (const GrantProcess& p : v) out.push_back(p.pid);
        std::sort(out.begin(), out.end());
        return out;
    };
    std::vector<pid_t> a = {both, only_a};
    std::sort(a.begin(), a.end());
    EXPECT_EQ(pids(found[0]), a);
    EXPECT_EQ(pids(found[1]), std::vector<pid_t>{both});
    EXPECT_TRUE(found[2].empty());
    const GrantProcess* in_a = nullptr;
    for (const GrantProcess& p : found[0])
        if (p.pid == both) in_a = &p;
    ASSERT_NE(in_a, nullptr);
    ASSERT_EQ(found[1].size(), 1u);
    // Without pidfd_open (valgrind 3.19 answers ENOSYS) the scan hands out
    // processes without a descriptor, signalled while they still match (the
    // test above); with it, each key's copy is a descriptor of its own.
    const int probe = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
    if (probe >= 0 || errno != ENOSYS) {
        ASSERT_GE(probe, 0) << std::strerror(errno);
        ::close(probe);
        ASSERT_TRUE(in_a->pidfd.valid());
        ASSERT_TRUE(found[1][0].pidfd.valid());
        EXPECT_NE(in_a->pidfd.get(), found[1][0].pidfd.get());
    }
    EXPECT_EQ(found[1][0].gate_gid, std::optional<gid_t>(kGateB));
    // The first copy dropped, the second still reaches the process.
    found[0].clear();
    EXPECT_TRUE(signal_process(found[1][0], SIGTERM));
    int status = 0;
    ASSERT_EQ(::waitpid(both, &status, 0), both);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    ::kill(only_a, SIGKILL);
    ASSERT_EQ(::waitpid(only_a, &status, 0), only_a);
}

}  // namespace
}  // namespace bg
