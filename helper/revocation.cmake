# Revocation that does something: finding the processes that run under a
# grant (in the daemon core).
target_sources(bg_daemon_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/process_scan.cpp)
