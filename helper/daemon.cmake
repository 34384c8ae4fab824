# The daemon's decision core (a library so tests and benchmarks drive it
# directly) and the breakglassd executable around it.
add_library(bg_daemon_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/peer_identity.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grant_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dispatch.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon.cpp)
target_include_directories(bg_daemon_core PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(bg_daemon_core PUBLIC bg_common bg_policy bg_audit bg_mfa bg_yubikey OpenSSL::Crypto PRIVATE bg_strict)

# Per-grant transient systemd timers over sd-bus (the first line of revocation).
add_library(bg_systemd_timers STATIC ${CMAKE_CURRENT_LIST_DIR}/systemd_timers.cpp)
target_include_directories(bg_systemd_timers PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(bg_systemd_timers PUBLIC bg_common PkgConfig::SYSTEMD PRIVATE bg_strict)

add_executable(breakglassd ${CMAKE_CURRENT_LIST_DIR}/breakglassd.cpp)
target_compile_definitions(breakglassd PRIVATE
  BG_DEFAULT_STATE_DIR="${BG_DEFAULT_STATE_DIR}" BG_DEFAULT_POLICY="${BG_DEFAULT_POLICY}"
  BG_DEFAULT_CTL="${CMAKE_INSTALL_FULL_SBINDIR}/breakglassctl")
target_link_libraries(breakglassd PRIVATE bg_daemon_core bg_systemd_timers bg_cli11 PkgConfig::SYSTEMD bg_strict)
install(TARGETS breakglassd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/man/breakglassd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
