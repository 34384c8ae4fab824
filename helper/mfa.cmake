# The second factor: TOTP (RFC 6238), the per-user secret store and the
# failure rate limit. Used by breakglassd only.
add_library(bg_mfa STATIC
  ${CMAKE_CURRENT_LIST_DIR}/totp.cpp
  ${CMAKE_CURRENT_LIST_DIR}/secret_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/totp_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/failure_limiter.cpp)
target_include_directories(bg_mfa PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(bg_mfa
  PUBLIC bg_common OpenSSL::Crypto nlohmann_json::nlohmann_json
  PRIVATE bg_strict)
