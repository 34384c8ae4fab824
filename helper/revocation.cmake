# Revocation that does something: finding the processes that run under a
# grant (in the daemon core) and running the gates' on_grant/on_revoke hooks
# (in breakglassd, which owns the event loop).
target_sources(bg_daemon_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/process_scan.cpp)
target_sources(breakglassd PRIVATE ${CMAKE_CURRENT_LIST_DIR}/hook_runner.cpp)
target_sources(breakglassd PRIVATE ${CMAKE_CURRENT_LIST_DIR}/revocation_loop.cpp)
