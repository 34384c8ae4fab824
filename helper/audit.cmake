# The audit store: canonical records, the hash-chained sealed log, its
# verifier, the evolving seal key and the journald mirror.
add_library(bg_audit STATIC
  ${CMAKE_CURRENT_LIST_DIR}/audit_record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/audit_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/audit_verify.cpp
  ${CMAKE_CURRENT_LIST_DIR}/seal_key.cpp
  ${CMAKE_CURRENT_LIST_DIR}/journal.cpp)
target_include_directories(bg_audit PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(bg_audit
  PUBLIC bg_common OpenSSL::Crypto nlohmann_json::nlohmann_json PkgConfig::SYSTEMD
  PRIVATE bg_strict)
