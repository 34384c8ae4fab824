# breakglassctl, the command-line front-end. Its pure parts (argument
# mapping, durations and times, output formatting, bounded secret reading)
# form bg_ctl, which tests/ctl.cmake unit-tests; the executable adds the
# CLI11 wiring and the subcommands that talk to breakglassd or read files.
add_library(bg_ctl STATIC
  ${CMAKE_CURRENT_LIST_DIR}/ctl_arguments.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ctl_output.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ctl_secret_input.cpp)
target_include_directories(bg_ctl PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(bg_ctl
  PUBLIC bg_common
  PRIVATE nlohmann_json::nlohmann_json OpenSSL::Crypto bg_strict)

add_executable(breakglassctl
  ${CMAKE_CURRENT_LIST_DIR}/breakglassctl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ctl_commands.cpp)
target_compile_definitions(breakglassctl PRIVATE BG_DEFAULT_STATE_DIR="${BG_DEFAULT_STATE_DIR}")
target_link_libraries(breakglassctl PRIVATE bg_ctl bg_common bg_policy bg_audit bg_cli11 OpenSSL::Crypto bg_strict)
install(TARGETS breakglassctl DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/man/breakglassctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
